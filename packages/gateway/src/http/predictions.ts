import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModelServerError, SEQUENCE_ID_HEADER, SEQUENCE_START_HEADER } from '@model-server/protocol';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { InferenceJob } from '../scheduling/job.js';
import { publicRequestId, REQUEST_ID_HEADER, submitJob } from '../scheduling/submit-job.js';
import { noteRequest } from '../logging/access-log.js';
import { HttpSink } from './http-sink.js';
import { readInputs } from './read-inputs.js';
import { SseSink } from './sse-sink.js';
import { NO_CACHE_HEADERS, sendError } from './send-error.js';

export interface PredictionDeps {
  registry: ModelRegistry;
  maxRequestBytes: number;
  maxBufferedChunks: number;
}

function wantsEventStream(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream');
}

/** Request headers as one string each (repeated headers joined), as handlers see them. */
export function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const headers = req.headers;
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

const JOB = Symbol('job');
type ResponseWithJob = ServerResponse & { [JOB]?: InferenceJob };

/** One listener shared by every response (no closure per request). */
function onResponseClose(this: ResponseWithJob): void {
  if (!this.writableFinished) this[JOB]?.cancel('client disconnected');
  this[JOB] = undefined;
}

/**
 * Ties a job to its HTTP response: a client that leaves before its answer gets its queued job dropped
 * or its running job cancelled in the worker. Every HTTP API uses this one mechanism.
 */
export function cancelOnClientClose(res: ServerResponse, job: InferenceJob): void {
  (res as ResponseWithJob)[JOB] = job;
  res.on('close', onResponseClose);
}

/**
 * Answers a request of a stateful model with its sequence (TorchServe's headers): the id, generated
 * when the request named none, and the start flag on the request that opened it. Set before the sink
 * writes, so success and error answers alike carry them.
 */
export function answerSequence(res: ServerResponse, job: InferenceJob): void {
  const sequence = job.sequence;
  if (sequence === undefined) return;
  res.setHeader(SEQUENCE_ID_HEADER, sequence.id);
  if (sequence.start) res.setHeader(SEQUENCE_START_HEADER, 'true');
}

/**
 * The hot path for `POST /predictions/{model}[/{version}][/extra/path]` and `/explanations/...`,
 * on plain node:http: no framework runs per request. The model is resolved before the body is read,
 * so an unknown model costs no upload. `segments` is the whole path, route segment first.
 */
export function handlePrediction(
  deps: PredictionDeps,
  req: IncomingMessage,
  res: ServerResponse,
  kind: 'predict' | 'explain',
  segments: readonly string[],
): void {
  const requestId = publicRequestId(req.headers[REQUEST_ID_HEADER]);
  // segments[0] is the route (`predictions`); the cached array is frozen, and slicing a frozen array
  // takes V8's slow path (3 % of the gateway), so it is indexed instead.
  const model = segments[1];
  const version = segments[2];
  if (model) noteRequest(res, model, requestId);
  try {
    if (!model) throw new ModelServerError('RESOURCE_NOT_FOUND');
    if (req.method !== 'POST' && req.method !== 'PUT') throw new ModelServerError('METHOD_NOT_ALLOWED');
    deps.registry.resolve(model, version);
  } catch (err) {
    sendError(res, err, { ...NO_CACHE_HEADERS, 'x-request-id': requestId });
    return;
  }
  readInputs(req, deps.maxRequestBytes, (readError, inputs) => {
    try {
      if (readError !== undefined) throw readError;
      const headers = flattenHeaders(req);
      headers['explain'] = kind === 'explain' ? 'True' : 'False';
      if (segments.length > 3) headers['url_path'] = segments.slice(3).join('/');
      const sink = wantsEventStream(req)
        ? new SseSink(res, requestId, deps.maxBufferedChunks)
        : new HttpSink(res, requestId, deps.maxBufferedChunks);
      const job = submitJob(deps.registry, { kind, model: model!, version, headers, inputs: inputs!, sink, requestId });
      answerSequence(res, job);
      cancelOnClientClose(res, job);
    } catch (err) {
      sendError(res, err, { ...NO_CACHE_HEADERS, 'x-request-id': requestId });
    }
  });
}
