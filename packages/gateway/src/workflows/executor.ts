import { ModelServerError, type InferenceInput } from '@model-server/protocol';
import { CollectSink, type CollectedOutcome } from '../http/collect-sink.js';
import { asModelServerError } from '../http/send-error.js';
import type { Logger } from '../logging/logger.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { InferenceJob, ResponsePart } from '../scheduling/job.js';
import { PRIORITY_HEADER, REQUEST_ID_HEADER, submitJob, TIMEOUT_HEADER } from '../scheduling/submit-job.js';
import { workflowAnswer } from './answer.js';
import { DagProgress } from './dag.js';
import type { Workflow, WorkflowNode } from './workflow.js';

export interface ExecutorDeps {
  registry: ModelRegistry;
  logger: Logger;
}

/** One request to a workflow, as the inference route read it. */
export interface WorkflowRequest {
  /** The public id; every node's job carries it, so logs of all nodes correlate. */
  requestId: string;
  /** The client's headers, flattened: the start node gets them (TorchServe's rule). */
  headers: Record<string, string>;
  inputs: InferenceInput[];
  /** Fires when the client goes away: the running nodes are cancelled, no further node starts. */
  signal: AbortSignal;
  /** The client's deadline for the whole request (`x-request-timeout-ms`), which bounds every node's. */
  timeoutMs?: number | undefined;
}

/** What an attempt ended with when the request was cancelled meanwhile (no answer will come). */
const CANCELLED = Symbol('cancelled');
type Attempt = CollectedOutcome | typeof CANCELLED;

/** Most characters of a node's error body quoted in the workflow's error. */
const MAX_QUOTED_CHARS = 500;

/**
 * A node's answer with an error status (a handler that set one, such as a per-request 400) as the
 * error it is: the message of a TorchServe error body, else the body's text.
 */
function refusal(part: ResponsePart): ModelServerError | undefined {
  if (part.status < 400) return undefined;
  const text = new TextDecoder().decode(part.body);
  let message = text.slice(0, MAX_QUOTED_CHARS);
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed?.message === 'string') message = parsed.message;
  } catch {
    // Not JSON: the text it is.
  }
  return new ModelServerError('HANDLER_ERROR', { message: message || `status ${part.status}` }, { status: part.status });
}

/** The request's failure at `node` after `attempts` attempts: the node's own status, its name and its message. */
function nodeFailure(workflow: Workflow, node: WorkflowNode, error: ModelServerError, attempts: number): ModelServerError {
  if (error.code === 'REQUEST_TIMEOUT') {
    return new ModelServerError('WORKFLOW_NODE_TIMEOUT', { workflow: workflow.name, node: node.name, timeoutMs: node.timeoutMs, attempts }, { cause: error });
  }
  return new ModelServerError('WORKFLOW_NODE_FAILED', { workflow: workflow.name, node: node.name, attempts, reason: error.message }, { status: error.status, cause: error });
}

/** One attempt of a node: a job on its model, answered into a CollectSink, or cancelled with the request. */
function attempt(deps: ExecutorDeps, node: WorkflowNode, inputs: InferenceInput[], headers: Record<string, string>, requestId: string, signal: AbortSignal): Promise<Attempt> {
  if (signal.aborted) return Promise.resolve(CANCELLED);
  const sink = new CollectSink();
  let job: InferenceJob;
  try {
    job = submitJob(deps.registry, { kind: 'predict', model: node.model, headers, inputs, sink, requestId });
  } catch (err) {
    return Promise.resolve({ ok: false, error: asModelServerError(err) });
  }
  return new Promise<Attempt>((resolve) => {
    // A cancelled job answers nobody, so the attempt ends here instead of waiting for its sink.
    const onAbort = (): void => {
      job.cancel('workflow request cancelled');
      resolve(CANCELLED);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    void sink.outcome.then((outcome) => {
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    });
  });
}

/**
 * Runs one request through a workflow's graph: the start node gets the request, every other node its
 * parents' outputs (see DagProgress), nodes whose parents have answered run at once, side by side, and
 * each node's job joins its model's queue and batches with other requests' jobs there. A node that
 * fails with a 5xx or times out is tried again up to its `retry-attempts`; a 4xx (the node refusing
 * its input) is not retried. The first node to fail fails the request and cancels the nodes still
 * running. Rejects with REQUEST_CANCELLED when `signal` fired.
 */
export function runWorkflow(deps: ExecutorDeps, workflow: Workflow, request: WorkflowRequest): Promise<ResponsePart> {
  const { dag } = workflow.spec;
  const progress = new DagProgress(dag);
  const stop = new AbortController();
  const deadline = request.timeoutMs === undefined ? undefined : performance.now() + request.timeoutMs;
  const childHeaders: Record<string, string> = { [REQUEST_ID_HEADER]: request.requestId };
  if (request.headers[PRIORITY_HEADER] !== undefined) childHeaders[PRIORITY_HEADER] = request.headers[PRIORITY_HEADER];
  const cancelled = (): ModelServerError => new ModelServerError('REQUEST_CANCELLED', { requestId: request.requestId, reason: 'the client went away' });
  const clientTimeout = (node: string): ModelServerError =>
    new ModelServerError('REQUEST_TIMEOUT', { requestId: request.requestId, timeoutMs: request.timeoutMs, phase: `in workflow node ${node}` });

  const callNode = async (node: WorkflowNode, inputs: InferenceInput[], headers: Record<string, string>): Promise<ResponsePart> => {
    for (let n = 1; ; n++) {
      const remaining = deadline === undefined ? Infinity : deadline - performance.now();
      if (remaining <= 0) throw clientTimeout(node.name);
      const timeoutMs = Math.max(1, Math.floor(Math.min(node.timeoutMs, remaining)));
      const outcome = await attempt(deps, node, inputs, { ...headers, [TIMEOUT_HEADER]: String(timeoutMs) }, request.requestId, stop.signal);
      if (outcome === CANCELLED) throw CANCELLED;
      const error = outcome.ok ? refusal(outcome.part) : outcome.error;
      if (error === undefined && outcome.ok) return outcome.part;
      const failure = error!;
      // The client's deadline, not the node's, ran out: that is the request's timeout, not worth a retry.
      if (failure.code === 'REQUEST_TIMEOUT' && timeoutMs < node.timeoutMs) throw clientTimeout(node.name);
      if (failure.status < 500 || n > node.retryAttempts) throw nodeFailure(workflow, node, failure, n);
      deps.logger.info({ workflow: workflow.name, node: node.name, requestId: request.requestId, attempt: n }, `workflow node failed, retrying: ${failure.message}`);
    }
  };

  return new Promise<ResponsePart>((resolve, reject) => {
    let settled = false;
    const onClientGone = (): void => stop.abort();
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      request.signal.removeEventListener('abort', onClientGone);
      stop.abort();
      reject(err === CANCELLED ? cancelled() : err);
    };
    const launch = (name: string, inputs: InferenceInput[], headers: Record<string, string>): void => {
      callNode(workflow.nodes.get(name)!, inputs, headers).then((part) => {
        if (settled) return;
        const ready = progress.complete(name, part);
        if (progress.finished) {
          settled = true;
          request.signal.removeEventListener('abort', onClientGone);
          resolve(workflowAnswer(progress.leafOutputs()));
          return;
        }
        for (const next of ready) launch(next.node, next.inputs, childHeaders);
      }, fail);
    };
    if (request.signal.aborted) return fail(CANCELLED);
    request.signal.addEventListener('abort', onClientGone, { once: true });
    launch(dag.start, request.inputs, request.headers);
  });
}
