import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModelServerError, TENSOR_OUTPUTS_HEADER } from '@model-server/protocol';
import { cancelOnClientClose, flattenHeaders, type PredictionDeps } from '../http/predictions.js';
import { PRIORITY_HEADER, REQUEST_ID_HEADER, TIMEOUT_HEADER, publicRequestId, submitJob } from '../scheduling/submit-job.js';
import { readInputsAsync } from '../http/read-inputs.js';
import { sequenceFromOipParameters } from '../scheduling/sequence-request.js';
import { NO_CACHE_HEADERS } from '../http/send-error.js';
import { sendOipError } from '../http/send-oip-error.js';
import { HEADER_LENGTH_HEADER, headerLength } from './binary-data.js';
import { decodeInferRequest } from './decode-request.js';
import { InferSink } from './infer-sink.js';
import { assertReady, metadataOf } from './model-state.js';
import { noteRequest } from '../logging/access-log.js';
import type { ModelTarget } from '../routing/routes.js';

/** Whether a version's handler is code of its own, which may take inputs its model's signature does not list. */
export function hasOwnHandler(version: { archive: { manifest: { model: { handler: string } } } }): boolean {
  return version.archive.manifest.model.handler !== 'onnx_generic';
}

/** Triton's `timeout` request parameter (microseconds) as our deadline header (milliseconds). */
function timeoutMs(parameters: Record<string, unknown>): string | undefined {
  const us = parameters['timeout'];
  if (us === undefined) return undefined;
  if (typeof us !== 'number' || !Number.isInteger(us) || us <= 0) {
    throw new ModelServerError('INVALID_INPUT', { reason: 'parameter "timeout" must be a positive integer (microseconds)' });
  }
  return String(Math.ceil(us / 1000));
}

/** Level given to Triton's priority 1; explicit levels 1, 2, 3 … map to this, this - 1, … */
const TRITON_TOP_PRIORITY = 1_000_000;

/**
 * Triton's `priority` parameter (1 is highest, 0 means default) as our priority header (higher first,
 * default 0): every explicit Triton level is served before requests that name none.
 */
function priorityLevel(parameters: Record<string, unknown>): string | undefined {
  const p = parameters['priority'];
  if (p === undefined || p === 0) return undefined;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= TRITON_TOP_PRIORITY) {
    throw new ModelServerError('INVALID_INPUT', { reason: 'parameter "priority" must be a non-negative integer (1 is highest)' });
  }
  return String(TRITON_TOP_PRIORITY + 1 - p);
}

/**
 * What an infer request's decoded body sets in its job's headers, for the REST and gRPC forms of the
 * protocol alike: the outputs it asked for (only the protocol's own `outputs` may name them; a client
 * header of that name is not trusted), and Triton's schedule_policy parameters (`timeout` in
 * microseconds, `priority` 1 = highest) as our deadline and priority headers.
 */
export function applyInferRequest(decoded: { outputs?: readonly { name: string }[] | undefined; parameters: Record<string, unknown> }, headers: Record<string, string>): void {
  delete headers[TENSOR_OUTPUTS_HEADER];
  if (decoded.outputs) headers[TENSOR_OUTPUTS_HEADER] = JSON.stringify(decoded.outputs.map((o) => o.name));
  const parameters = decoded.parameters;
  const timeout = timeoutMs(parameters);
  if (timeout !== undefined) headers[TIMEOUT_HEADER] = timeout;
  const priority = priorityLevel(parameters);
  if (priority !== undefined) headers[PRIORITY_HEADER] = priority;
}

/**
 * The hot path of the Open Inference Protocol: `POST /v2/models/{m}[/versions/{v}]/infer` on plain
 * node:http. JSON and binary tensors are decoded here into raw bytes, queued like any prediction (so
 * they batch with other requests), and the worker's tensors come back as JSON or binary. The model is
 * resolved and its readiness checked before the body is read.
 */
export async function handleV2Infer(deps: PredictionDeps, req: IncomingMessage, res: ServerResponse, target: ModelTarget): Promise<void> {
  const requestId = publicRequestId(req.headers[REQUEST_ID_HEADER]);
  const common = { ...NO_CACHE_HEADERS, 'x-request-id': requestId };
  noteRequest(res, target.model, requestId);
  try {
    const version = deps.registry.resolve(target.model, target.version);
    assertReady(version);
    if (/^multipart\/|^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) {
      throw new ModelServerError('UNSUPPORTED_MEDIA_TYPE', { contentType: req.headers['content-type'] });
    }
    const [body] = await readInputsAsync(req, deps.maxRequestBytes);
    const data = body?.data ?? new Uint8Array(0);
    const decoded = decodeInferRequest(data, headerLength(req.headers[HEADER_LENGTH_HEADER], data.byteLength), metadataOf(version), {
      handlerDecides: hasOwnHandler(version),
    });
    const headers = flattenHeaders(req);
    applyInferRequest(decoded, headers);
    headers['explain'] = 'False';
    const sink = new InferSink(res, requestId, {
      modelName: version.name,
      modelVersion: version.version,
      id: decoded.id,
      outputs: decoded.outputs,
      binaryByDefault: decoded.binaryByDefault,
    });
    const job = submitJob(deps.registry, {
      kind: 'predict',
      model: version.name,
      version: version.version,
      headers,
      inputs: decoded.inputs,
      sink,
      requestId,
      // Triton's sequence parameters; a model without sequences ignores them, as before.
      sequence: version.sequences ? sequenceFromOipParameters(decoded.parameters) : undefined,
    });
    cancelOnClientClose(res, job);
  } catch (err) {
    sendOipError(res, err, common);
  }
}
