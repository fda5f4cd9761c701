import { connect } from 'node:net';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { requestChunked } from './helpers/chunked.js';
import { buildModel, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;
const MAX_BUFFERED_CHUNKS = 8;

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 2\nbatchSize: 1\n' });
  // One worker, so the cancellation report comes from the worker that ran the cancelled request.
  await buildModel(store, { name: 'solo', config: 'minWorkers: 1\nbatchSize: 1\n' });
  server = await startServer({ store, models: ['probe.mar', 'solo.mar'], config: { stream_max_buffered_chunks: MAX_BUFFERED_CHUNKS } });
});
afterAll(() => server?.stop());


async function sse(body: unknown): Promise<{ status: number; contentType: string | null; events: EventSourceMessage[] }> {
  const res = await fetch(`${server.url}/predictions/probe`, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
  return { status: res.status, contentType: res.headers.get('content-type'), events };
}

async function report(): Promise<{ cancelled: string[] }> {
  return (await postJson(`${server.url}/predictions/solo`, { op: 'cancelled' })).json as unknown as { cancelled: string[] };
}

describe('HTTP chunked streaming', () => {
  it('tears the connection down when the handler fails after streaming began (no fake success)', async () => {
    const res = await requestChunked(`${server.url}/predictions/probe`, JSON.stringify({ op: 'stream', n: 2, message: 'late failure' }));
    expect(res.status).toBe(200);
    expect(res.chunks.map(String)).toEqual(['chunk-0', 'chunk-1']);
    expect(res.terminated).toBe(false);
  });
});

describe('Server-Sent Events', () => {
  it('sends one event per intermediate result, then a complete event', async () => {
    const r = await sse({ op: 'stream', n: 3 });
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/^text\/event-stream/);
    expect(r.events.map((e) => [e.event, e.data])).toEqual([
      ['chunk', 'chunk-0'],
      ['chunk', 'chunk-1'],
      ['chunk', 'chunk-2'],
      ['complete', 'done'],
    ]);
  });

  it('reports a failure after streaming started in-band, as an error event', async () => {
    const r = await sse({ op: 'stream', n: 2, message: 'mid-stream failure' });
    expect(r.status).toBe(200);
    expect(r.events.map((e) => e.event)).toEqual(['chunk', 'chunk', 'error']);
    expect(JSON.parse(r.events[2]!.data)).toMatchObject({ code: 500, type: 'InternalServerException', message: 'mid-stream failure' });
  });

  it('answers a failure before any event with a real status and JSON error', async () => {
    const res = await fetch(`${server.url}/predictions/probe`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ op: 'throw', message: 'early' }),
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ message: 'early' });
  });
});

interface WsMessage {
  id: string;
  type: 'accepted' | 'chunk' | 'complete' | 'error';
  data?: string;
  status?: number;
  error?: { message: string };
}

function openSocket(path = '/predictions/probe/ws'): Promise<{ ws: WebSocket; messages: WsMessage[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`);
    const messages: WsMessage[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data)) as WsMessage));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

describe('WebSocket', () => {
  it('carries several concurrent requests on one socket, each reply tagged with its id', async () => {
    const { ws, messages } = await openSocket();
    ws.send(JSON.stringify({ id: 'a', body: { op: 'stream', n: 3 } }));
    ws.send(JSON.stringify({ id: 'b', body: { op: 'stream', n: 2 } }));
    ws.send(JSON.stringify({ id: 'c', body: { op: 'echo', value: 9 } }));
    await waitFor(() => ['a', 'b', 'c'].every((id) => messages.some((m) => m.id === id && m.type === 'complete')), 10_000, 'three completions');
    const of = (id: string) => messages.filter((m) => m.id === id).map((m) => (m.type === 'chunk' || m.type === 'complete' ? `${m.type}:${m.data}` : m.type));
    expect(of('a')).toEqual(['accepted', 'chunk:chunk-0', 'chunk:chunk-1', 'chunk:chunk-2', 'complete:done']);
    expect(of('b')).toEqual(['accepted', 'chunk:chunk-0', 'chunk:chunk-1', 'complete:done']);
    const c = messages.find((m) => m.id === 'c' && m.type === 'complete')!;
    expect(JSON.parse(c.data!)).toMatchObject({ value: 9, requestId: 'c' });
    ws.close();
  });

  it('gives binary messages a generated id and answers bad messages without closing the socket', async () => {
    const { ws, messages } = await openSocket();
    ws.send(Buffer.from([1, 2, 3]));
    ws.send('not json');
    await waitFor(() => messages.some((m) => m.type === 'complete') && messages.some((m) => m.type === 'error'), 10_000, 'both replies');
    const done = messages.find((m) => m.type === 'complete')!;
    expect(messages.find((m) => m.type === 'accepted')!.id).toBe(done.id);
    expect(JSON.parse(done.data!).inputs).toEqual([{ name: 'body', contentType: 'application/octet-stream', size: 3, text: '\u0001\u0002\u0003' }]);
    const err = messages.find((m) => m.type === 'error')!;
    expect(err.status).toBe(400);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  it('cancels the requests of a socket that closes', async () => {
    const { ws, messages } = await openSocket('/predictions/solo/ws');
    ws.send(JSON.stringify({ id: 'doomed', body: { op: 'hang' }, headers: { 'x-tag': 'ws-doomed' } }));
    await waitFor(() => messages.some((m) => m.id === 'doomed' && m.type === 'accepted'));
    const version = server.gateway.registry.resolve('solo');
    await waitFor(() => [...version.pool.workers].some((w) => w.inFlightCount === 1), 5000, 'the request to run');
    ws.close();
    await waitFor(async () => (await report()).cancelled.includes('ws-doomed'), 10_000, 'the handler to see the cancel');
  });

  it('refuses an upgrade for an unknown model with 404', async () => {
    await expect(openSocket('/predictions/nope/ws')).rejects.toThrow('404');
  });
});

describe('backpressure', () => {
  it('fails a stream whose client stops reading, once the buffered-chunk bound is passed, and cancels it', async () => {
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.pause(); // never read: the kernel buffers fill, then the gateway's
    const body = JSON.stringify({ op: 'stream', n: 100_000, size: 65_536, ms: 0 });
    socket.write(`POST /predictions/solo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-tag: slow-reader\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    await waitFor(async () => (await report()).cancelled.includes('slow-reader'), 30_000, 'the overflowing stream to be cancelled');
    socket.destroy();
    // The gateway held at most the bound (plus socket buffers), not the 6.5 GB the handler wanted to send.
    expect(process.memoryUsage.rss()).toBeLessThan(2 * 1024 ** 3);
  });
});
