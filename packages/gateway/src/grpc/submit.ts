import type { EventEmitter } from 'node:events';
import type { Deadline, Metadata } from '@grpc/grpc-js';
import { ModelServerError, type InferenceInput } from '@model-server/protocol';
import { REQUEST_ID_HEADER, TIMEOUT_HEADER, publicRequestId, submitJob } from '../scheduling/submit-job.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { SequenceRequest } from '../scheduling/sequence-request.js';
import type { InferenceJob, ResponseSink } from '../scheduling/job.js';

/**
 * The one place where a gRPC request becomes a job. Everything gRPC-specific that the core needs is
 * decided here: the request's public id (the client's `x-request-id` metadata when safe; the job's
 * key is always issued by the gateway, and client ids are echoed back as data by the renderers), the
 * handler's headers, the deadline, and the tie between the call and the job.
 */
export interface GrpcJobRequest {
  model: string;
  version: string | undefined;
  inputs: InferenceInput[];
  /** Request headers for the handler (see `metadataHeaders`), plus any the protocol adds. */
  headers: Record<string, string>;
  /** The call's deadline (`grpc-timeout`); Infinity when the client set none. */
  deadline: Deadline;
  /** Its sequence, for a stateful model (Triton's `sequence_id` parameters on ModelInfer). */
  sequence?: SequenceRequest | undefined;
}

/** Metadata keys that never reach a handler: the credentials, and binary values (`-bin`). */
function privateKey(key: string): boolean {
  return key === 'authorization' || key.endsWith('-bin');
}

/**
 * The call's metadata as request headers, as HTTP headers reach a handler: so `x-request-timeout-ms`,
 * `x-request-priority` and custom headers work over gRPC too. The `authorization` key is withheld.
 */
export function metadataHeaders(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  const map = metadata.getMap();
  for (const key in map) {
    if (privateKey(key)) continue;
    const value = map[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}

/**
 * Makes the call's deadline the job's, unless the request asks for a shorter one of its own
 * (`x-request-timeout-ms`); an own value that is not a valid number is left for submitJob to refuse.
 */
function applyDeadline(headers: Record<string, string>, deadline: Deadline): void {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return;
  const remainingMs = Math.max(1, Math.ceil(at - Date.now()));
  const own = headers[TIMEOUT_HEADER];
  if (own === undefined) {
    headers[TIMEOUT_HEADER] = String(remainingMs);
    return;
  }
  const n = Number(own);
  if (Number.isInteger(n) && n > remainingMs) headers[TIMEOUT_HEADER] = String(remainingMs);
}

/**
 * Queues the request as a prediction job on its model (or throws the refusal: unknown model, queue
 * full, ...). `sink` is made for the job's id, which streams name in their overflow errors.
 */
export function submitGrpcJob(registry: ModelRegistry, request: GrpcJobRequest, sink: (jobId: string) => ResponseSink): InferenceJob {
  applyDeadline(request.headers, request.deadline);
  request.headers['explain'] = 'False';
  const requestId = publicRequestId(request.headers[REQUEST_ID_HEADER]);
  return submitJob(registry, {
    kind: 'predict',
    model: request.model,
    version: request.version,
    headers: request.headers,
    inputs: request.inputs,
    sink: sink(requestId),
    requestId,
    sequence: request.sequence,
  });
}

const JOB = Symbol('job');
type CallWithJob = EventEmitter & { cancelled: boolean; [JOB]?: InferenceJob };

/** One listener shared by every call (no closure per request). grpc-js also fires it after a normal end, when the job is already over. */
function onCancelled(this: CallWithJob): void {
  this[JOB]?.cancel('client cancelled the call or its deadline passed');
  this[JOB] = undefined;
}

/**
 * Ties a job to its call: a client that cancels, or whose deadline passes, has its queued job dropped
 * or its running job cancelled in the worker, as an HTTP client that disconnects.
 */
export function cancelWithCall(call: EventEmitter & { cancelled: boolean }, job: InferenceJob): void {
  const c = call as CallWithJob;
  c[JOB] = job;
  c.once('cancelled', onCancelled);
  if (c.cancelled) onCancelled.call(c);
}

/** `Parameter <name> is required.`, TorchServe's wording, for an empty required field. */
export function required(value: string, name: string): string {
  if (value === '') throw new ModelServerError('BAD_REQUEST', { reason: `Parameter ${name} is required.` });
  return value;
}
