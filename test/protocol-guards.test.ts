import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkPredict,
  decodeBody,
  encodeBody,
  fastBatchEnd,
  fastPredict,
  fastResponse,
  fromWorkerSchema,
  parseFromWorker,
  parseToWorker,
  requestProblem,
} from '@model-server/protocol';
import { checkProperty } from './helpers/fuzz.js';

/**
 * The hand-written fast guards of the protocol against the checks they stand in for. A guard may only
 * accept what the full check accepts, returning the same value; on what travels over the wire (plain
 * msgpack-decoded data) it must accept everything the full check accepts, or the fast path is skipped
 * for nothing. requestProblem, which the gateway runs on every request before queueing it, must say
 * "fine" exactly when the worker's check does, and what it accepts must still pass that check once
 * msgpack has carried it to the worker.
 */

type Json = Record<string, unknown>;

/** Values that sit on the edges of every check: wrong types, unsafe and non-finite numbers, odd objects. */
const edgeValue = fc.constantFrom<unknown>(
  undefined, null, NaN, Infinity, -Infinity, -0, 0, 1, -1, 1.5, 2 ** 53, -(2 ** 53), 2 ** 53 - 1, 2 ** 31, '', 'x', true, false,
);
const oddObject = fc.constantFrom<() => unknown>(
  () => [],
  () => ({}),
  () => Object.create(null) as object,
  () => Object.assign(Object.create(null) as object, { a: 'b' }),
  () => new Uint8Array(0),
  () => Buffer.from('ab'),
  () => new Int16Array(2),
  () => new Date(0),
  () => new Map([['a', 1]]),
  () => ['a'],
  () => ({ a: 1 }),
  () => ({ a: 'b' }),
  () => ({ a: undefined }),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: edgeValue },
  { weight: 3, arbitrary: oddObject.map((make) => make()) },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 2, withNullPrototype: true, withTypedArray: true, withDate: true, withMap: true, withBigInt: true }) },
);

const headers = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 });
const body = fc.uint8Array({ maxLength: 16 });
const int = fc.oneof(fc.integer(), fc.constantFrom(0, 2 ** 53 - 1, -(2 ** 53 - 1)));

const responseBase = fc.record(
  {
    type: fc.constantFrom('response', 'chunk'),
    batchId: int,
    requestId: fc.string({ maxLength: 8 }),
    status: int,
    contentType: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
    headers,
    body,
  },
  { requiredKeys: ['type', 'batchId', 'requestId', 'status', 'headers', 'body'] },
);
const batchEndBase = fc.record({ type: fc.constant('batch_end'), batchId: int, handlerMs: fc.double(), rssBytes: fc.double() });
const input = fc.record({ name: fc.string({ maxLength: 8 }), contentType: fc.string({ maxLength: 12 }), data: body });
const request = fc.record({ id: fc.string({ maxLength: 8 }), headers, inputs: fc.array(input, { maxLength: 3 }) });
const predictBase = fc.record({
  type: fc.constant('predict'),
  batchId: int,
  kind: fc.constantFrom('predict', 'explain'),
  requests: fc.array(request, { minLength: 1, maxLength: 3 }),
});

/** Plain objects and arrays copied; everything else (bytes, odd objects) shared. */
function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)]));
  }
  return v;
}

/** Every (container, key) of plain objects and arrays in `root`, depth first. */
function slots(root: unknown): [Json | unknown[], string | number][] {
  const out: [Json | unknown[], string | number][] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push([v, i]);
        walk(x);
      });
    } else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      for (const k of Object.keys(v)) {
        out.push([v as Json, k]);
        walk((v as Json)[k]);
      }
    }
  };
  walk(root);
  return out;
}

interface Mutation {
  at: number;
  op: 'set' | 'delete' | 'add';
  value: unknown;
  key: string;
}
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('set', 'set', 'delete', 'add'),
  value: anyValue,
  key: fc.constantFrom('extra', 'type', 'contentType', '__proto__', 'constructor', '0'),
});

/** A copy of a valid message with a few fields replaced, removed or added, anywhere in it. */
function mutate(base: unknown, mutations: readonly Mutation[]): unknown {
  const root = clone(base);
  for (const m of mutations) {
    const all = slots(root);
    if (all.length === 0) break;
    const [container, key] = all[m.at % all.length]!;
    if (m.op === 'set') (container as Json)[key] = m.value;
    else if (m.op === 'delete') {
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete container[key as string];
    } else if (!Array.isArray(container)) {
      Object.defineProperty(container, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}

/** The value as the receiving process sees it after msgpack, or undefined when it cannot be encoded. */
function overTheWire(v: unknown): { value: unknown } | undefined {
  try {
    return { value: decodeBody(encodeBody(v)) };
  } catch {
    return undefined;
  }
}

/** A message near the valid ones, either as built in memory or as it arrives over the wire. */
function nearValid<T>(base: fc.Arbitrary<T>): fc.Arbitrary<{ value: unknown; wire: boolean }> {
  return fc
    .tuple(base, fc.array(mutation, { maxLength: 3 }), fc.boolean())
    .map(([b, ms, wire]) => {
      const v = mutate(b, ms);
      if (!wire) return { value: v, wire };
      const decoded = overTheWire(v);
      return decoded ? { value: decoded.value, wire } : { value: v, wire: false };
    });
}

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function fastFromWorker(v: unknown): unknown {
  if (!isObj(v)) return undefined;
  if (v.type === 'response' || v.type === 'chunk') return fastResponse(v, v.type);
  if (v.type === 'batch_end') return fastBatchEnd(v);
  return undefined;
}

function attempt<T>(f: () => T): { ok: true; value: T } | { ok: false; error: Error } {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}

/** Same fields, same values (zod copies records into plain objects, a guard keeps them as they came). */
function expectSameMessage(actual: unknown, expected: unknown): void {
  expect(actual).toEqual(expected);
  expect(Object.keys(actual as Json), 'the same keys, an undefined contentType included').toEqual(Object.keys(expected as Json));
}

describe('property: fast guards accept exactly what the full checks accept', () => {
  it('response, chunk and batch_end: the fast guard vs the zod schema, and parseFromWorker vs zod', async () => {
    await checkProperty(
      'fromWorker guards',
      fc.property(fc.oneof(nearValid(responseBase), nearValid(batchEndBase), fc.record({ value: anyValue, wire: fc.constant(false) })), ({ value, wire }) => {
        const schema = fromWorkerSchema.safeParse(value);
        const fast = fastFromWorker(value);
        if (fast !== undefined) {
          expect(schema.success, 'the fast guard accepted what the schema refuses').toBe(true);
          expectSameMessage(fast, schema.data);
        }
        if (wire && schema.success && isObj(value) && ['response', 'chunk', 'batch_end'].includes(value.type as string)) {
          expect(fast, 'the schema accepts a wire message the fast guard refuses').toBeDefined();
        }
        const parsed = attempt(() => parseFromWorker(value));
        expect(parsed.ok).toBe(schema.success);
        if (parsed.ok) expectSameMessage(parsed.value, schema.data);
        else expect(parsed.error.message).toMatch(/^Invalid protocol message: /);
      }),
      3000,
    );
  });

  it('predict: fastPredict vs checkPredict, and parseToWorker', async () => {
    await checkProperty(
      'predict guards',
      fc.property(nearValid(predictBase), ({ value, wire }) => {
        if (!isObj(value)) return;
        const full = attempt(() => checkPredict(value));
        const fast = fastPredict(value);
        if (fast !== undefined) {
          expect(full.ok, 'fastPredict accepted what checkPredict refuses').toBe(true);
          expect(fast).toStrictEqual((full as { value: unknown }).value);
        }
        if (wire && full.ok) expect(fast, 'checkPredict accepts a wire message fastPredict refuses').toBeDefined();
        if (value.type === 'predict') expect(attempt(() => parseToWorker(value)).ok).toBe(full.ok);
      }),
      3000,
    );
  });

  it('requestProblem agrees with checkPredict, and what it accepts the worker accepts after the wire', async () => {
    const near = fc.tuple(request, fc.array(mutation, { maxLength: 3 })).map(([r, ms]) => mutate(r, ms));
    await checkProperty(
      'requestProblem',
      fc.property(fc.oneof(near, anyValue), (r) => {
        if (!isObj(r)) return;
        const fields = { id: r.id, headers: r.headers, inputs: r.inputs };
        const problem = requestProblem(fields);
        const full = attempt(() => checkPredict({ kind: 'predict', batchId: 0, requests: [fields] }));
        expect(problem === undefined, `requestProblem: ${problem ?? 'fine'}; checkPredict: ${full.ok ? 'fine' : full.error.message}`).toBe(full.ok);
        if (problem !== undefined) return;
        // The worker decodes what msgpack made of the request. (Values msgpack cannot encode, such as
        // bigints past 64 bits, cannot come from a client: the gateway builds requests of strings and bytes.)
        const wire = overTheWire({ type: 'predict', batchId: 0, kind: 'predict', requests: [fields] });
        fc.pre(wire !== undefined);
        expect(attempt(() => parseToWorker(wire.value)).ok, 'requestProblem accepted a request the worker refuses').toBe(true);
      }),
      3000,
    );
  });
});
