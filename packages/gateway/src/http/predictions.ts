import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModelServerError, requestProblem } from '@model-server/protocol';
import type { ModelRegistry } from '../registry/model-registry.js';
import { InferenceJob, type ResponseSink } from '../scheduling/job.js';
import { HttpSink } from './http-sink.js';
import { readInputs } from './read-inputs.js';
import { SseSink } from './sse-sink.js';
import { NO_CACHE_HEADERS, sendError } from './send-error.js';

/** Request header carrying a per-request deadline in milliseconds (capped by nothing but sanity). */
export const TIMEOUT_HEADER = 'x-request-timeout-ms';
/** Request header carrying a priority; higher is served first, FIFO within a level. */
export const PRIORITY_HEADER = 'x-request-priority';

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

function intHeader(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ModelServerError('BAD_REQUEST', { reason: `Header ${name} must be an integer >= ${min} (got "${value}")` });
  }
  return n;
}

export interface SubmitOptions {
  kind: 'predict' | 'explain';
  model: string;
  version?: string | undefined;
  headers: Record<string, string>;
  inputs: InferenceJob['inputs'];
  sink: ResponseSink;
  requestId: string;
}

/** Creates a job on the model version and queues it (or throws the refusal). Shared by every API. */
export function submitJob(registry: ModelRegistry, opts: SubmitOptions): InferenceJob {
  const target = registry.resolve(opts.model, opts.version);
  const timeoutMs = intHeader(opts.headers[TIMEOUT_HEADER], TIMEOUT_HEADER, 1) ?? target.settings.responseTimeoutMs;
  const priority = intHeader(opts.headers[PRIORITY_HEADER], PRIORITY_HEADER, Number.MIN_SAFE_INTEGER) ?? 0;
  // What the worker would refuse is the client's error, answered here: it must never reach a worker.
  const problem = requestProblem({ id: opts.requestId, headers: opts.headers, inputs: opts.inputs });
  if (problem !== undefined) throw new ModelServerError('BAD_REQUEST', { reason: `Invalid request: ${problem}` });
  const job = new InferenceJob({
    id: opts.requestId,
    kind: opts.kind,
    headers: opts.headers,
    inputs: opts.inputs,
    sink: opts.sink,
    priority,
    timeoutMs,
  });
  try {
    target.submit(job);
  } catch (err) {
    job.cancel('refused');
    throw err;
  }
  return job;
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
  const requestId = randomUUID();
  // segments[0] is the route (`predictions`); the cached array is frozen, and slicing a frozen array
  // takes V8's slow path (3 % of the gateway), so it is indexed instead.
  const model = segments[1];
  const version = segments[2];
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
      cancelOnClientClose(res, job);
    } catch (err) {
      sendError(res, err, { ...NO_CACHE_HEADERS, 'x-request-id': requestId });
    }
  });
}
