import { ModelServerError, SEQUENCE_END_HEADER, SEQUENCE_ID_HEADER, SEQUENCE_START_HEADER, flagValue } from '@model-server/protocol';

/**
 * What one request says about its sequence, whatever API carried it: TorchServe's headers, the Open
 * Inference Protocol's parameters (REST here, gRPC's ModelInfer alike), a WebSocket. Only a stateful
 * model (sequenceBatching) reads it; the sequence batcher decides what it means.
 */
export interface SequenceRequest {
  /** The sequence it names; undefined when it names none. */
  readonly id: string | undefined;
  /** The first request of its sequence: opens it (a sequence open under that id is ended first). */
  readonly start: boolean;
  /** The last request of its sequence: nothing is taken for it after this one. */
  readonly end: boolean;
  /**
   * A request that names no sequence opens one under a fresh id (`open`, TorchServe's way, the id
   * answered in `ts_request_sequence_id`) or is refused (`refuse`, Triton's, which needs an id).
   */
  readonly withoutId: 'open' | 'refuse';
}

/** What a sequence id may look like: bounded, and safe in headers and log lines. */
const SAFE_SEQUENCE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** A client's sequence id, refused (400) unless short and of safe characters: it reaches headers, logs and errors. */
export function checkedId(id: string, where: string): string {
  if (!SAFE_SEQUENCE_ID.test(id)) {
    throw new ModelServerError('BAD_REQUEST', {
      reason: `${where} must be 1 to 128 characters of A-Z a-z 0-9 . _ : @ / + = - (got ${JSON.stringify(id.slice(0, 140))})`,
    });
  }
  return id;
}

/** TorchServe's request headers: `ts_request_sequence_id`, `ts_request_sequence_start`, `ts_request_sequence_end`. */
export function sequenceFromHeaders(headers: Readonly<Record<string, string>>): SequenceRequest {
  const raw = headers[SEQUENCE_ID_HEADER]?.trim();
  return {
    id: raw ? checkedId(raw, `Header ${SEQUENCE_ID_HEADER}`) : undefined,
    start: flagValue(headers[SEQUENCE_START_HEADER]),
    end: flagValue(headers[SEQUENCE_END_HEADER]),
    withoutId: 'open',
  };
}

function invalid(reason: string): ModelServerError {
  return new ModelServerError('INVALID_INPUT', { reason });
}

function boolParameter(parameters: Readonly<Record<string, unknown>>, name: string): boolean {
  const v = parameters[name];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw invalid(`parameter "${name}" must be a boolean`);
  return v;
}

/**
 * The Open Inference Protocol's request parameters, as Triton's sequence batcher takes them:
 * `sequence_id` (an unsigned integer or a string; 0 and "" name no sequence), `sequence_start`,
 * `sequence_end` (booleans). A numeric id is the decimal string of its value, so 7 and "7" are one
 * sequence. Integers arrive as numbers from JSON and as bigints or numbers from gRPC's int64/uint64
 * parameters; a JSON number past 2^53 has lost digits before it gets here and is refused.
 */
export function sequenceFromOipParameters(parameters: Readonly<Record<string, unknown>>): SequenceRequest {
  const raw = parameters['sequence_id'];
  let id: string | undefined;
  if (typeof raw === 'string') {
    id = raw === '' ? undefined : checkedId(raw, 'parameter "sequence_id"');
  } else if (typeof raw === 'bigint') {
    if (raw < 0n) throw invalid('parameter "sequence_id" must not be negative');
    id = raw === 0n ? undefined : raw.toString();
  } else if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw) || raw < 0) {
      throw invalid('parameter "sequence_id" must be an unsigned integer below 2^53 (send a larger one as a string)');
    }
    id = raw === 0 ? undefined : String(raw);
  } else if (raw !== undefined) {
    throw invalid('parameter "sequence_id" must be an unsigned integer or a string');
  }
  const start = boolParameter(parameters, 'sequence_start');
  const end = boolParameter(parameters, 'sequence_end');
  if (id === undefined && (start || end)) throw invalid('parameters "sequence_start" and "sequence_end" need a "sequence_id"');
  return { id, start, end, withoutId: 'refuse' };
}
