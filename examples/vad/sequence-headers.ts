import type { Context } from '@model-server/sdk';

/**
 * Which sequence request `i` of a batch belongs to. TorchServe's headers, which the gateway sets on
 * every request of a sequence; this is the one place that reads them, so moving to the SDK's own
 * accessor (`context.sequenceIdFor(i)`) changes only this file.
 */
export const SEQUENCE_ID_HEADER = 'ts_request_sequence_id';
export const SEQUENCE_START_HEADER = 'ts_request_sequence_start';
export const SEQUENCE_END_HEADER = 'ts_request_sequence_end';

export interface SequenceInfo {
  /** Absent for a request outside any sequence: it is then a whole recording on its own. */
  readonly id: string | undefined;
  /** The first request of the sequence: any state kept under this id is discarded. */
  readonly start: boolean;
  /** The last request of the sequence: its state is dropped after this chunk. */
  readonly end: boolean;
}

/** A flag header is set unless absent, empty or one of false/0/no. */
export function headerFlag(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  return v !== '' && v !== 'false' && v !== '0' && v !== 'no';
}

export function sequenceOf(context: Context, i: number): SequenceInfo {
  const id = context.getRequestHeader(i, SEQUENCE_ID_HEADER)?.trim() || undefined;
  if (id === undefined) return { id, start: true, end: true };
  return { id, start: headerFlag(context.getRequestHeader(i, SEQUENCE_START_HEADER)), end: headerFlag(context.getRequestHeader(i, SEQUENCE_END_HEADER)) };
}
