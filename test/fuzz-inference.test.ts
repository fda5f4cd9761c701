import { join } from 'node:path';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzTimeout, sometimes } from './helpers/fuzz.js';
import { baseline, checkAnswers, fetchAnswer, within, type Answer, type Baseline } from './helpers/invariants.js';
import { ROOT, buildModel, tempDir } from './helpers/models.js';
import { chunkedBody, httpRequest, rawRequest } from './helpers/raw-http.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';

/**
 * Property-based fuzzing of every parser the inference port exposes, against a real server process
 * (a crash shows as its exit) with the probe handler and the mnist example: multipart bodies, KServe
 * v1 bodies, Open Inference Protocol v2 JSON and binary bodies, WebSocket messages. Every answer must
 * be a success or a 4xx with a JSON body, never a 5xx; after each property the same workers must be
 * serving (pids from describe) and ts_worker_restarts_total must not have moved. Seeds are printed on
 * failure and replayed with FUZZ_SEED/FUZZ_PATH (helpers/fuzz.ts).
 *
 * Client deadlines are only ever generated invalid or long: a valid 1 ms deadline is rightly a 504.
 */
const MNIST = join(ROOT, 'examples', 'mnist');
const MODELS = ['probe', 'mnist'];
let server: ServerProcess;
let before: Baseline;

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nbatchSize: 4\nmaxBatchDelay: 2\n' });
  await buildModel(store, { name: 'mnist', handler: join(MNIST, 'handler.ts'), serializedFile: join(MNIST, 'mnist.onnx'), config: 'minWorkers: 1\nbatchSize: 8\nmaxBatchDelay: 0\n' });
  server = await startServerProcess({ store, models: ['probe=probe.mar', 'mnist=mnist.mar'], properties: { max_request_size: 200_000, request_read_timeout: 5 } });
  before = await baseline(server, MODELS);
});
afterAll(() => server?.stop());

/** The probe runs ops (exit, hang, ...) named in JSON; generated data never names one. */
const namesNoOp = (text: string): boolean => !/"op"/.test(text);

function fromRaw(r: { status: number; headers: Record<string, string>; body: string } | undefined): Answer | undefined {
  return r && { status: r.status, contentType: r.headers['content-type'], body: r.body };
}

// --- multipart ----------------------------------------------------------------------------------

/** Boundaries of token characters (fine unquoted), of every character RFC 2046 allows (some need quotes), and invalid ones. */
const boundary = fc.oneof(
  { weight: 10, arbitrary: fc.stringMatching(/^[0-9A-Za-z'+_.-]{1,70}$/) },
  { weight: 2, arbitrary: fc.stringMatching(/^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a b', '"q"', 'x'.repeat(71), '--', 'é', 'a\r\nb') },
);
const fieldName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('data', 'body', 'file', 'data') },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'a"b', 'x; y', 'é', '\u0000', 'n'.repeat(1100), '..', 'a\\"') },
);
// JSON parts weigh most: handlers parse them (the probe does), so they reach furthest.
const mimeType = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  { weight: 3, arbitrary: fc.constantFrom('text/plain', 'image/png', 'application/octet-stream', 'application/x-tensor; datatype=FP32; shape=1', 'multipart/mixed') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const partData = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.json().filter(namesNoOp).map((t) => Buffer.from(t)),
  fc.string({ maxLength: 40 }).map((t) => Buffer.from(t)),
);
const part = fc.record(
  {
    name: fieldName,
    filename: fc.option(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('a.png', '../../etc/passwd', 'x"y')), { nil: undefined }),
    type: fc.option(mimeType, { nil: undefined }),
    quote: fc.boolean(),
    extraHeader: sometimes(fc.constantFrom('X-Junk: 1', 'no colon here', 'Content-Transfer-Encoding: base64', 'Content-Length: 5', ' folded'), 5),
    data: partData,
    /** Some bodies hold the boundary itself, or a near miss of it. */
    injectBoundary: fc.constantFrom(0, 0, 0, 0, 0, 0, 1, 2),
  },
  { requiredKeys: ['name', 'quote', 'data', 'injectBoundary'] },
);
type Part = typeof part extends fc.Arbitrary<infer T> ? T : never;

function formBody(parts: Part[], b: string, terminate: boolean, omitName: number | undefined): Buffer {
  const chunks: Buffer[] = [];
  parts.forEach((p, i) => {
    const q = (v: string): string => (p.quote ? `"${v}"` : v);
    const disposition = ['form-data', omitName === i ? undefined : `name=${q(p.name)}`, p.filename !== undefined ? `filename=${q(p.filename)}` : undefined].filter(Boolean).join('; ');
    const headers = [`Content-Disposition: ${disposition}`, p.type !== undefined ? `Content-Type: ${p.type}` : undefined, p.extraHeader].filter(Boolean).join('\r\n');
    chunks.push(Buffer.from(`--${b}\r\n${headers}\r\n\r\n`), Buffer.from(p.data));
    if (p.injectBoundary === 1) chunks.push(Buffer.from(`\r\n--${b}`));
    if (p.injectBoundary === 2) chunks.push(Buffer.from(`\r\n--${b.slice(0, -1)}`));
    chunks.push(Buffer.from('\r\n'));
  });
  if (terminate) chunks.push(Buffer.from(`--${b}--\r\n`));
  return Buffer.concat(chunks);
}

const multipartCase = fc.record({
  route: fc.constantFrom('/predictions/probe', '/predictions/probe', '/explanations/probe', '/predictions/probe/1.0', '/predictions/mnist', '/predictions/probe/1.0/extra/path'),
  parts: fc.array(part, { maxLength: 5 }),
  /** A part whose disposition names no field (none most of the time). */
  omitName: sometimes(fc.nat({ max: 4 }), 6),
  boundary,
  /** The header names another boundary than the body uses. */
  headerBoundary: sometimes(boundary, 12),
  contentType: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('multipart/form-data; boundary=%', 'multipart/form-data; boundary="%"', 'Multipart/Form-Data; charset=utf-8; boundary=%') },
    { weight: 1, arbitrary: fc.constantFrom('multipart/form-data', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=%; boundary=other', 'multipart/mixed; boundary=%') },
  ),
  terminate: fc.constantFrom(true, true, true, false),
  /** Cut the body at this fraction of its length (none: whole). */
  cut: sometimes(fc.double({ min: 0, max: 1, noNaN: true }), 4),
  framing: fc.constantFrom('length', 'length', 'chunked', 'chunked', 'early-close'),
});

// --- KServe v1 ----------------------------------------------------------------------------------

const b64 = fc.oneof(fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 12 }), fc.constantFrom('', '====', 'YQ', 'Y', 'YQ==\n', '-_-_'));
const instance: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ b64 }),
  fc.dictionary(fc.oneof(fc.constantFrom('data', 'body', 'b64', 'x'), fc.string({ maxLength: 6 })), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ b64 }), b64), { maxKeys: 4 }),
);
const v1Body = fc.oneof(
  { weight: 6, arbitrary: fc.array(instance, { maxLength: 5 }).map((instances) => JSON.stringify({ instances })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.record({ inputs: fc.jsonValue({ maxDepth: 2 }) }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 90, max: 20_000 }).map((n) => `{"instances":[${'['.repeat(n)}1${']'.repeat(n)}]}`) },
);
const v1Case = fc.record({
  path: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('/v1/models/probe:predict', '/v1/models/probe:explain', '/v1/models/probe/versions/1.0:predict', '/v1/models/mnist:predict') },
    { weight: 1, arbitrary: fc.constantFrom('/v1/models/nosuch:predict', '/v1/models/probe:nope', '/v1/models/probe', '/v1/models/probe/versions/9:predict') },
  ),
  method: fc.oneof({ weight: 12, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT') }),
  contentType: fc.option(fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', 'multipart/form-data; boundary=x'), { nil: undefined }),
  body: v1Body.filter(namesNoOp),
});

// --- Open Inference Protocol v2 -----------------------------------------------------------------

const DATATYPES = ['FP32', 'fp32', 'FP64', 'FP16', 'INT64', 'INT32', 'UINT8', 'INT8', 'BOOL', 'BYTES', 'UINT64', 'X', ''];
const dim = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(784, 1, 0, -1, 2 ** 31, 2 ** 53, 1.5, 1e308));
const shape = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 3 }).map((n) => [n, 784]) },
  { weight: 2, arbitrary: fc.array(dim, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('1,784', null, [[1, 784]], ['1', '784'], {}) },
);
const element = fc.oneof(fc.double(), fc.integer(), fc.constantFrom<unknown>(0, 1, -1, 255, 256, 2 ** 53, '12', '-9223372036854775809', true, null, [], {}, 'x'));
/** `data` for a shape: the right number of numbers (flat or nested by rows), or something else. */
function dataFor(s: unknown): fc.Arbitrary<unknown> {
  const dims = Array.isArray(s) && s.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0) ? (s as number[]) : undefined;
  const count = dims?.reduce((a, b) => a * b, 1);
  const right =
    count !== undefined && count <= 3 * 784
      ? fc.oneof(
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: count, maxLength: count }),
          fc.array(fc.integer({ min: 0, max: 255 }), { minLength: count, maxLength: count }).map((flat) => (dims!.length === 2 && dims![0]! > 0 ? chunk(flat, dims![1]!) : flat)),
        )
      : fc.constant([]);
  return fc.oneof({ weight: 8, arbitrary: right }, { weight: 2, arbitrary: fc.array(element, { maxLength: 8 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
}
function chunk<T>(flat: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < flat.length; i += size) out.push(flat.slice(i, i + size));
  return out;
}
const requestParameters = sometimes(fc.dictionary(
  fc.constantFrom('timeout', 'priority', 'binary_data_output', 'other'),
  // A timeout is generated either invalid or long (see the file comment).
  fc.oneof(fc.constantFrom<unknown>(0, -1, 1.5, 'x', null, true, 60_000_000, 2 ** 53, 999_999, 1_000_000, 1), fc.jsonValue({ maxDepth: 1 })),
  { maxKeys: 3 },
).filter((p) => typeof p['timeout'] !== 'number' || !Number.isInteger(p['timeout']) || p['timeout'] <= 0 || p['timeout'] >= 60_000_000), 3);
const tensorInput = fc
  .record({ name: fc.oneof({ weight: 6, arbitrary: fc.constant('input') }, { weight: 1, arbitrary: fc.constantFrom('', 'other', 'INPUT') }), datatype: fc.oneof({ weight: 4, arbitrary: fc.constant('FP32') }, { weight: 1, arbitrary: fc.constantFrom(...DATATYPES) }), shape })
  .chain((base) => fc.record({ data: fc.option(dataFor(base.shape), { nil: undefined, freq: 10 }), parameters: sometimes(fc.dictionary(fc.constantFrom('binary_data_size', 'x'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }), 4) }).map((rest) => ({ ...base, ...rest })));
const outputs = sometimes(
  fc.array(fc.record({ name: fc.oneof({ weight: 4, arbitrary: fc.constant('logits') }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }), parameters: fc.option(fc.record({ binary_data: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 0 })) }), { nil: undefined }) }, { requiredKeys: ['name'] }), { maxLength: 3 }),
  2,
);
const inferRequest = fc.record(
  {
    id: fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) }),
    parameters: requestParameters,
    inputs: fc.oneof({ weight: 8, arbitrary: tensorInput.map((i) => [i]) }, { weight: 2, arbitrary: fc.array(tensorInput, { minLength: 0, maxLength: 3 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }),
    outputs,
  },
  { requiredKeys: ['inputs'] },
);
const v2JsonCase = fc.record({
  path: fc.constantFrom('/v2/models/mnist/infer', '/v2/models/mnist/infer', '/v2/models/mnist/infer', '/v2/models/mnist/versions/1.0/infer', '/v2/models/mnist/versions/1.0/infer', '/v2/models/nosuch/infer', '/v2/models/mnist/versions/9/infer'),
  contentType: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(undefined, 'application/json') }, { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x') }),
  body: fc.oneof({ weight: 8, arbitrary: inferRequest.map((r) => JSON.stringify(r)) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) }),
});

/** A binary request: a JSON header naming binary_data_size per input, then the bytes, with a header length that may lie. */
const v2BinaryCase = fc.oneof(
  fc.record({
    kind: fc.constant('header' as const),
    inputs: fc.array(
      fc.record({
        name: fc.constantFrom('input', 'input', 'other'),
        datatype: fc.constantFrom('FP32', 'FP32', 'FP64', 'BYTES', 'UINT8', 'BOOL'),
        rows: fc.integer({ min: 0, max: 2 }),
        /** Bytes actually appended for this input, relative to what its shape needs. */
        slack: fc.constantFrom(0, 0, 0, -1, 1, -4, 4, -3136),
        declared: sometimes(fc.constantFrom<unknown>(-1, 1.5, '3136', null, 2 ** 53, 0), 5),
      }),
      { minLength: 1, maxLength: 2 },
    ),
    headerLengthDelta: sometimes(fc.integer({ min: -5, max: 5 }), 4),
    headerLengthText: sometimes(fc.constantFrom('-1', 'abc', '1e3', '', ' 12', '99999999999999999999'), 10),
    binaryOutput: fc.boolean(),
    trailing: fc.uint8Array({ maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('raw' as const), size: fc.oneof(fc.constantFrom(0, 3136, 3135, 6272, 3137, 4, 1), fc.integer({ min: 0, max: 10_000 })), headerLength: fc.constantFrom('0', '0', '00', '-0') }),
);

type BinaryCase = typeof v2BinaryCase extends fc.Arbitrary<infer T> ? T : never;

function binaryRequest(c: BinaryCase): { body: Buffer; headerLength: string } {
  if (c.kind === 'raw') return { body: Buffer.alloc(c.size, 1), headerLength: c.headerLength };
  const blobs: Buffer[] = [];
  const inputs = c.inputs.map((i) => {
    const size = { FP32: 4, FP64: 8, BYTES: 1, UINT8: 1, BOOL: 1 }[i.datatype]! * i.rows * 784;
    blobs.push(Buffer.alloc(Math.max(0, size + i.slack), 0));
    return { name: i.name, datatype: i.datatype, shape: [i.rows, 784], parameters: { binary_data_size: i.declared ?? size + i.slack } };
  });
  const json = Buffer.from(JSON.stringify({ inputs, outputs: [{ name: 'logits', parameters: { binary_data: c.binaryOutput } }] }));
  const body = Buffer.concat([json, ...blobs, Buffer.from(c.trailing)]);
  return { body, headerLength: c.headerLengthText ?? String(json.byteLength + (c.headerLengthDelta ?? 0)) };
}

// --- WebSocket ----------------------------------------------------------------------------------

const wsHeaders = fc.dictionary(
  fc.oneof(fc.constantFrom('x-tag', 'content-type', 'x-request-id', 'x-request-priority', 'explain', 'url_path', 'X-Request-Id'), fc.string({ maxLength: 6 })),
  fc.oneof(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 })),
  { maxKeys: 4 },
);
const wsText = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 })),
    body: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 3 })),
    inputs: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })), { maxKeys: 3 }), fc.jsonValue({ maxDepth: 1 })),
    contentType: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('application/json', 'text/plain', 'image/png') }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) }),
    headers: fc.oneof({ weight: 4, arbitrary: wsHeaders }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
    // Deadlines: invalid or long only (see the file comment).
    timeout: fc.constantFrom<unknown>('0', '-5', 'soon', '1.5', '600000', 2 ** 60),
  },
  { requiredKeys: [] },
).map(({ timeout, ...msg }) => {
  if (timeout !== undefined && msg.headers && typeof msg.headers === 'object' && !Array.isArray(msg.headers)) (msg.headers as Record<string, unknown>)['x-request-timeout-ms'] = timeout;
  return msg;
});
const wsMessage = fc.oneof(
  { weight: 6, arbitrary: wsText.map((m) => ({ binary: false, data: Buffer.from(JSON.stringify(m)) })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => ({ binary: false, data: Buffer.from(JSON.stringify(v)) })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((t) => ({ binary: false, data: Buffer.from(t) })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ binary: true, data: Buffer.from(b) })) },
  // Text frames that are not UTF-8: the socket is closed with 1007, the server carries on.
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0xff, 0xfe]), Buffer.from([0xc3])).map((b) => ({ binary: false, data: b })) },
  { weight: 1, arbitrary: fc.integer({ min: 90, max: 30_000 }).map((n) => ({ binary: false, data: Buffer.from(`{"body":${'['.repeat(n)}${']'.repeat(n)}}`) })) },
).filter((m) => namesNoOp(m.data.toString('latin1')));

class WsClient {
  private ws: WebSocket | undefined;
  private readonly finals: ((m: { type: string; status?: number; error?: unknown } | { closed: number }) => void)[] = [];

  async socket(): Promise<WebSocket> {
    if (this.ws?.readyState === WebSocket.OPEN) return this.ws;
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/predictions/probe/ws`);
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; status?: number };
      if (m.type === 'complete' || m.type === 'error') this.finals.shift()?.(m);
    });
    ws.on('close', (code) => {
      for (const f of this.finals.splice(0)) f({ closed: code });
    });
    ws.on('error', () => undefined);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    this.ws = ws;
    return ws;
  }

  /** Sends one message and resolves with its final reply (complete or error), or the close code. */
  async exchange(m: { binary: boolean; data: Buffer }): Promise<{ type: string; status?: number; error?: unknown } | { closed: number }> {
    const ws = await this.socket();
    const answer = new Promise<{ type: string; status?: number } | { closed: number }>((resolve) => this.finals.push(resolve));
    ws.send(m.data, { binary: m.binary });
    return answer;
  }

  close(): void {
    this.ws?.close();
  }
}

describe('property: no input on the inference port gets a 5xx, ends a process or replaces a worker', () => {
  it('multipart bodies: random parts, names, filenames, types, boundaries, truncations and framings', async () => {
    await checkAnswers({
      name: 'multipart',
      cases: multipartCase,
      ask: async (c) => {
        const whole = formBody(c.parts, c.boundary, c.terminate, c.omitName);
        const body = c.cut === undefined ? whole : whole.subarray(0, Math.floor(whole.byteLength * c.cut));
        const contentType = c.contentType.replaceAll('%', c.headerBoundary ?? c.boundary);
        const what = `${c.route} ${c.framing} ${JSON.stringify(contentType)} ${body.byteLength} bytes`;
        if (c.framing === 'early-close') {
          // The declared body never arrives in full: the client leaves. An answer is optional, a crash is not.
          const headers = { 'content-type': contentType, 'content-length': whole.byteLength + 1 };
          return { answer: fromRaw(await within(rawRequest(server.url, httpRequest('POST', c.route, headers, body), { end: true }), 10_000, what)), what };
        }
        const headers: Record<string, string> = c.framing === 'chunked' ? { 'content-type': contentType, 'transfer-encoding': 'chunked' } : { 'content-type': contentType };
        const r = await within(rawRequest(server.url, httpRequest('POST', c.route, headers, c.framing === 'chunked' ? chunkedBody(body) : body)), 10_000, what);
        expect(r, `${what}: no answer`).toBeDefined();
        return { answer: fromRaw(r), what };
      },
      runs: 250,
      // Found by this property: a file part typed JSON that is not JSON (a 500 from the handler's parse).
      examples: [{ route: '/predictions/probe', parts: [{ name: 'data', filename: 'a.png', type: 'application/json', quote: false, data: new Uint8Array(0), injectBoundary: 0 }], omitName: undefined, boundary: '0', headerBoundary: undefined, contentType: 'multipart/form-data; boundary=%', terminate: true, cut: undefined, framing: 'length' }],
      server,
      before,
    });
  }, fuzzTimeout(60_000));

  it('KServe v1 bodies: instances of every shape, b64 fields, non-JSON, deep nesting', async () => {
    await checkAnswers({
      name: 'v1',
      cases: v1Case,
      ask: async (c) => {
        const init: RequestInit = { method: c.method, headers: c.contentType ? { 'content-type': c.contentType } : {} };
        if (c.method !== 'GET') init.body = c.body;
        return { answer: await fetchAnswer(`${server.url}${c.path}`, init), what: `${c.method} ${c.path} ${c.body.slice(0, 200)}` };
      },
      runs: 250,
      server,
      before,
    });
  }, fuzzTimeout(60_000));

  it('Open Inference Protocol v2 JSON: datatypes, shapes, nesting, parameters, outputs', async () => {
    await checkAnswers({
      name: 'v2 json',
      cases: v2JsonCase,
      ask: async (c) => ({
        answer: await fetchAnswer(`${server.url}${c.path}`, { method: 'POST', headers: c.contentType ? { 'content-type': c.contentType } : {}, body: c.body }),
        what: `${c.path} ${c.body.slice(0, 300)}`,
      }),
      runs: 250,
      server,
      before,
    });
  }, fuzzTimeout(60_000));

  it('Open Inference Protocol v2 binary: Inference-Header-Content-Length, binary_data_size, raw bodies', async () => {
    await checkAnswers({
      name: 'v2 binary',
      cases: v2BinaryCase,
      ask: async (c) => {
        const { body, headerLength } = binaryRequest(c);
        const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength };
        return { answer: await fetchAnswer(`${server.url}/v2/models/mnist/infer`, { method: 'POST', headers, body }), what: `binary ${JSON.stringify(c).slice(0, 300)} (header length ${headerLength}, ${body.byteLength} bytes)` };
      },
      runs: 200,
      server,
      before,
    });
  }, fuzzTimeout(60_000));

  it('WebSocket messages: every message gets a final reply with a status under 500, or a clean close', async () => {
    const client = new WsClient();
    try {
      await checkAnswers({
        name: 'websocket',
        cases: wsMessage,
        ask: async (m) => {
          const what = `ws ${m.binary ? 'binary' : 'text'} ${m.data.toString('latin1').slice(0, 200)}`;
          const reply = await within(client.exchange(m), 10_000, what);
          if ('closed' in reply) {
            // Only a protocol breach closes the socket: bad UTF-8 (1007) or an oversized frame (1009).
            expect([1007, 1009], `${what}: closed with ${reply.closed}`).toContain(reply.closed);
            return { answer: undefined, what };
          }
          if (reply.type === 'error') expect(reply.error, `${what}: an error reply without its error body`).toMatchObject({ code: reply.status });
          return { answer: { status: reply.status!, contentType: 'application/json', body: JSON.stringify(reply.type === 'error' ? reply.error : reply) }, what };
        },
        runs: 250,
        examples: [
          // Found by this property: a header value whose String() throws (a 500), and a JSON body that is not JSON.
          { binary: false, data: Buffer.from('{"headers":{"":{"toString":0}}}') },
          { binary: false, data: Buffer.from('{"body":"","contentType":"application/json"}') },
        ],
        server,
        before,
      });
    } finally {
      client.close();
    }
  }, fuzzTimeout(60_000));
});
