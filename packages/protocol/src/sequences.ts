/**
 * Stateful sequences on the wire: TorchServe's header names, which the gateway sets on every request of
 * a sequence it sends a worker (and answers with), and the reasons a sequence ends, which the worker
 * hands to the handler's `endSequence` hook. Shared by the gateway, the worker and the SDK.
 */
export const SEQUENCE_ID_HEADER = 'ts_request_sequence_id';
export const SEQUENCE_START_HEADER = 'ts_request_sequence_start';
export const SEQUENCE_END_HEADER = 'ts_request_sequence_end';

/**
 * Why a sequence ended: `client` (a request flagged as its last), `handler` (the handler ended it with
 * a response), `idle` (sequenceMaxIdleMSec), `timeout` (sequenceTimeoutMSec), `restarted` (a new start
 * for the same id), `closed` (its WebSocket closed).
 */
export const SEQUENCE_END_REASONS = ['client', 'handler', 'idle', 'timeout', 'restarted', 'closed'] as const;
export type SequenceEndReason = (typeof SEQUENCE_END_REASONS)[number];

/** A flag header or parameter is set unless absent, empty or one of false/0/no (any case). */
export function flagValue(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  return v !== '' && v !== 'false' && v !== '0' && v !== 'no';
}
