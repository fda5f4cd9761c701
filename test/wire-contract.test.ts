import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBody, encodeMessage, FRAME_HEADER_BYTES, parseToWorker, requestProblem, type ToWorker } from '@model-server/protocol';

/**
 * The gateway never sends a worker a message the worker's checks refuse: every request the gateway
 * lets through (requestProblem accepts it, as submitJob asks) encodes to a `predict` frame that the
 * worker's parseToWorker accepts and reads back unchanged, and everything requestProblem refuses, the
 * worker would refuse too (so the check is neither looser nor needlessly stricter).
 */
const anyValue = fc.oneof(fc.string(), fc.integer(), fc.constant(undefined), fc.constant(null), fc.boolean(), fc.uint8Array({ maxLength: 8 }), fc.object({ maxDepth: 1 }));
const input = fc.record(
  { name: fc.oneof(fc.string(), anyValue), contentType: fc.oneof(fc.string(), anyValue), data: fc.oneof(fc.uint8Array({ maxLength: 64 }), anyValue) },
  { requiredKeys: [] },
);
const request = fc.record({
  id: fc.oneof(fc.string(), anyValue),
  headers: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.dictionary(fc.string(), anyValue), anyValue),
  inputs: fc.oneof(fc.array(input, { maxLength: 4 }), anyValue),
});

function frameOf(requests: unknown[]): unknown {
  const frame = encodeMessage({ type: 'predict', batchId: 1, kind: 'predict', requests });
  return decodeBody(frame.subarray(FRAME_HEADER_BYTES));
}

describe('the gateway -> worker contract', () => {
  it('what requestProblem accepts, the worker accepts and reads back unchanged', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), (requests) => {
        const accepted = requests.filter((r) => requestProblem(r) === undefined);
        if (accepted.length === 0) return;
        const parsed = parseToWorker(frameOf(accepted)) as Extract<ToWorker, { type: 'predict' }>;
        expect(parsed.requests).toHaveLength(accepted.length);
        parsed.requests.forEach((r, i) => {
          const sent = accepted[i] as { id: string; headers: Record<string, string>; inputs: { name: string; contentType: string; data: Uint8Array }[] };
          expect(r.id).toBe(sent.id);
          expect(r.headers).toEqual(sent.headers);
          expect(r.inputs.map((x) => [x.name, x.contentType, Buffer.from(x.data).toString('hex')])).toEqual(
            sent.inputs.map((x) => [x.name, x.contentType, Buffer.from(x.data).toString('hex')]),
          );
        });
      }),
      { numRuns: 500 },
    );
  });

  it('what requestProblem refuses, the worker would refuse', () => {
    fc.assert(
      fc.property(request, (r) => {
        if (requestProblem(r) === undefined) return;
        expect(() => parseToWorker({ type: 'predict', batchId: 1, kind: 'predict', requests: [r] })).toThrow(/Invalid protocol message/);
      }),
      { numRuns: 500 },
    );
  });
});
