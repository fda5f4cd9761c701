import { randomUUID } from 'node:crypto';
import { ModelServerError, requestProblem } from '@model-server/protocol';
import type { ModelRegistry } from '../registry/model-registry.js';
import { InferenceJob, type JobKind, type ResponseSink } from './job.js';
import type { SequenceRequest } from './sequence-request.js';

/** Request header carrying a per-request deadline in milliseconds. */
export const TIMEOUT_HEADER = 'x-request-timeout-ms';
/** Request header carrying a priority; higher is served first, FIFO within a level. */
export const PRIORITY_HEADER = 'x-request-priority';
/** The request's public id: taken from a client that sends a safe one, else generated; always answered. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What a client's own request id may look like to be used: short, and safe in logs and headers. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The public id of a request: the client's `x-request-id` when it is safe (bounded, no characters that
 * could forge log lines or headers), else a fresh UUID. It is data, echoed back and logged; the job's
 * key is always the gateway's own id.
 */
export function publicRequestId(clientValue: string | string[] | undefined): string {
  return typeof clientValue === 'string' && SAFE_REQUEST_ID.test(clientValue) ? clientValue : randomUUID();
}

/** An integer header of ours (a deadline, a priority): undefined when absent, 400 when not an integer >= min. */
export function intHeader(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ModelServerError('BAD_REQUEST', { reason: `Header ${name} must be an integer >= ${min} (got "${value}")` });
  }
  return n;
}

export interface SubmitOptions {
  kind: JobKind;
  model: string;
  version?: string | undefined;
  headers: Record<string, string>;
  inputs: InferenceJob['inputs'];
  sink: ResponseSink;
  /** The public id (see publicRequestId); the handler sees it as the x-request-id header. */
  requestId: string;
  /**
   * Its sequence, for a stateful model: from the OIP parameters (sequenceFromOipParameters) or a
   * WebSocket. Absent, a stateful model reads TorchServe's sequence headers; other models ignore it.
   */
  sequence?: SequenceRequest | undefined;
}

/**
 * Creates a job on the model version and queues it, or throws the refusal. Every API (HTTP,
 * WebSocket, KServe v1, the Open Inference Protocol, gRPC) enters through here. For a stateful model
 * the job's `sequence` is set once it is accepted (the id to answer with, and whether it opened it).
 */
export function submitJob(registry: ModelRegistry, opts: SubmitOptions): InferenceJob {
  const target = registry.resolve(opts.model, opts.version);
  const timeoutMs = intHeader(opts.headers[TIMEOUT_HEADER], TIMEOUT_HEADER, 1) ?? target.settings.responseTimeoutMs;
  const priority = intHeader(opts.headers[PRIORITY_HEADER], PRIORITY_HEADER, Number.MIN_SAFE_INTEGER) ?? 0;
  opts.headers[REQUEST_ID_HEADER] = opts.requestId;
  // What the worker would refuse is the client's error, answered here: it must never reach a worker.
  const problem = requestProblem({ id: '', headers: opts.headers, inputs: opts.inputs });
  if (problem !== undefined) throw new ModelServerError('BAD_REQUEST', { reason: `Invalid request: ${problem}` });
  // Every API bounds its bodies; inputs made inside the gateway (a workflow node's, say) are bounded
  // here, since a worker reads frames of at most batchSize x max_request_size.
  let bytes = 0;
  for (const input of opts.inputs) bytes += input.data.byteLength;
  if (bytes > target.maxRequestBytes) throw new ModelServerError('REQUEST_TOO_LARGE', { limit: target.maxRequestBytes });
  const job = new InferenceJob({
    kind: opts.kind,
    model: target.name,
    version: target.version,
    requestId: opts.requestId,
    headers: opts.headers,
    inputs: opts.inputs,
    sink: opts.sink,
    priority,
    timeoutMs,
  });
  try {
    target.submit(job, opts.sequence);
  } catch (err) {
    job.cancel('refused');
    throw err;
  }
  return job;
}
