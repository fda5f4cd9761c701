import type { Context } from '@model-server/sdk';

/**
 * Which sequence request `i` of a batch belongs to. The gateway serves this model with sequence
 * batching: it sets TorchServe's sequence headers on every request, and the SDK reads them.
 */
export interface SequenceInfo {
  /** Absent for a request outside any sequence: it is then a whole recording on its own. */
  readonly id: string | undefined;
  /** The first request of the sequence: any state kept under this id is discarded. */
  readonly start: boolean;
  /** The last request of the sequence: its state is dropped after this chunk. */
  readonly end: boolean;
}

export function sequenceOf(context: Context, i: number): SequenceInfo {
  const id = context.sequenceIdFor(i)?.trim() || undefined;
  if (id === undefined) return { id, start: true, end: true };
  return { id, start: context.isSequenceStart(i), end: context.isSequenceEnd(i) };
}
