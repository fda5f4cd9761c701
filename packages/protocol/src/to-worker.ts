import { ModelServerError } from './errors.js';
import { arr, bytes, int, invalidAt, isInt, isObj, isStringRecord, obj, str, stringRecord, type Obj } from './shape-checks.js';

/**
 * Gateway -> worker messages, validated without zod: this module is all a worker loads of the
 * protocol's checks (see shape-checks.ts for why).
 */

/** Bumped on any incompatible change; the worker refuses a `load` with another version. */
export const PROTOCOL_VERSION = 3;

/** One named input of a request: a multipart field, the raw body (`body`), or a decoded tensor. */
export interface InferenceInput {
  name: string;
  contentType: string;
  data: Uint8Array;
}

export interface InferenceRequest {
  id: string;
  headers: Record<string, string>;
  inputs: InferenceInput[];
}

export interface LoadMessage {
  type: 'load';
  protocolVersion: number;
  workerId: string;
  modelName: string;
  modelVersion: string;
  /** Folder holding the unpacked archive (MAR-INF/MANIFEST.json and the model files). */
  modelDir: string;
  /** MANIFEST.json as the gateway validated it when it opened the archive. */
  manifest: Record<string, unknown>;
  batchSize: number;
  /** The parsed model-config.yaml, so the worker and the gateway read one and the same document. */
  modelConfig: Record<string, unknown>;
}

export interface PredictMessage {
  type: 'predict';
  batchId: number;
  /** `explain` runs the handler's explanation path instead of prediction. */
  kind: 'predict' | 'explain';
  requests: InferenceRequest[];
}

export interface CancelMessage {
  type: 'cancel';
  requestId: string;
  reason: string;
}

export interface StopMessage {
  type: 'stop';
}

/**
 * A sequence of a stateful model ended (the client or the handler ended it, it expired, its socket
 * closed): the handler may free what it kept for it. Sent after the sequence's last request, and run
 * by the worker in order with its batches.
 */
export interface SequenceEndMessage {
  type: 'sequence_end';
  sequenceId: string;
  /** Why: one of SEQUENCE_END_REASONS. */
  reason: string;
}

export type ToWorker = LoadMessage | PredictMessage | CancelMessage | StopMessage | SequenceEndMessage;

// The frequent message, `predict`, is checked by a guard that builds no field paths; only a value
// it refuses is walked again by the checks below, which name the offending field.
function fastInputs(v: unknown): InferenceInput[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: InferenceInput[] = new Array<InferenceInput>(v.length);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (!isObj(x)) return undefined;
    const { name, contentType, data } = x;
    if (typeof name !== 'string' || typeof contentType !== 'string' || !(data instanceof Uint8Array)) return undefined;
    out[i] = { name, contentType, data };
  }
  return out;
}

/** The fast guard of `predict` (exported for the property test that ties it to checkPredict). */
export function fastPredict(v: Obj): PredictMessage | undefined {
  const { batchId, kind, requests } = v;
  if (!isInt(batchId) || (kind !== 'predict' && kind !== 'explain') || !Array.isArray(requests) || requests.length < 1) {
    return undefined;
  }
  const out: InferenceRequest[] = new Array<InferenceRequest>(requests.length);
  for (let i = 0; i < requests.length; i++) {
    const r: unknown = requests[i];
    if (!isObj(r)) return undefined;
    const { id, headers } = r;
    if (typeof id !== 'string' || !isStringRecord(headers)) return undefined;
    const inputs = fastInputs(r.inputs);
    if (!inputs) return undefined;
    out[i] = { id, headers, inputs };
  }
  return { type: 'predict', batchId, kind, requests: out };
}

/**
 * Why a request would be refused by the worker's checks of a `predict` message, or undefined when it
 * passes them. The gateway runs it on every request before queueing it, so that no client input can
 * make the gateway send a message the worker refuses (which would end the worker and fail the batch).
 */
export function requestProblem(request: { id: unknown; headers: unknown; inputs: unknown }): string | undefined {
  // The common case passes the cheap guards; anything else is decided by the worker's own checks.
  if (typeof request.id === 'string' && isStringRecord(request.headers) && fastInputs(request.inputs)) return undefined;
  try {
    checkPredict({ kind: 'predict', batchId: 0, requests: [request] });
  } catch (err) {
    return (err as Error).message.replace(/^Invalid protocol message: requests\.0\./, '');
  }
  return undefined;
}

/** The full check of `predict`, naming the offending field. */
export function checkPredict(v: Obj): PredictMessage {
  const kind = v.kind;
  if (kind !== 'predict' && kind !== 'explain') throw invalidAt('kind', 'expected "predict" or "explain"');
  const requests = arr(v.requests, 'requests', 1).map((raw, i): InferenceRequest => {
    const at = `requests.${i}`;
    const r = obj(raw, at);
    const inputs = arr(r.inputs, `${at}.inputs`).map((x, j): InferenceInput => {
      const input = obj(x, `${at}.inputs.${j}`);
      return {
        name: str(input.name, `${at}.inputs.${j}.name`),
        contentType: str(input.contentType, `${at}.inputs.${j}.contentType`),
        data: bytes(input.data, `${at}.inputs.${j}.data`),
      };
    });
    return { id: str(r.id, `${at}.id`), headers: stringRecord(r.headers, `${at}.headers`), inputs };
  });
  return { type: 'predict', batchId: int(v.batchId, 'batchId'), kind, requests };
}

function checkLoad(v: Obj): LoadMessage {
  return {
    type: 'load',
    protocolVersion: int(v.protocolVersion, 'protocolVersion'),
    workerId: str(v.workerId, 'workerId'),
    modelName: str(v.modelName, 'modelName'),
    modelVersion: str(v.modelVersion, 'modelVersion'),
    modelDir: str(v.modelDir, 'modelDir'),
    manifest: obj(v.manifest, 'manifest'),
    batchSize: int(v.batchSize, 'batchSize', 1),
    modelConfig: obj(v.modelConfig, 'modelConfig'),
  };
}

/** Validates a decoded value as a gateway -> worker message (MESSAGE_INVALID naming the field otherwise). */
export function parseToWorker(value: unknown): ToWorker {
  if (!isObj(value)) throw invalidAt('', 'expected a message object');
  switch (value.type) {
    case 'predict':
      return fastPredict(value) ?? checkPredict(value);
    case 'load':
      return checkLoad(value);
    case 'cancel':
      return { type: 'cancel', requestId: str(value.requestId, 'requestId'), reason: str(value.reason, 'reason') };
    case 'stop':
      return { type: 'stop' };
    case 'sequence_end':
      return { type: 'sequence_end', sequenceId: str(value.sequenceId, 'sequenceId'), reason: str(value.reason, 'reason') };
    default:
      throw new ModelServerError('MESSAGE_INVALID', { reason: `type: unknown message type ${JSON.stringify(value.type)}` });
  }
}
