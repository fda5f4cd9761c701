import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildModel, tempDir } from './helpers/models.js';
import { httpRequest, parseResponse, rawConnect, type RawResponse } from './helpers/raw-http.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { waitFor } from './helpers/wait.js';

/** SIGTERM (Kubernetes, Docker) and Ctrl-C stop the server gracefully, through a real server process. */
let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(extra: Parameters<typeof startServerProcess>[0]['properties'] = {}, detached = false): Promise<ServerProcess> {
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nbatchSize: 1\n' });
  server = await startServerProcess({ store, models: ['probe=probe.mar'], properties: { shutdown_grace_period: 20, ...extra }, detached });
  return server;
}

/** A keep-alive connection that sends one request at a time and reads its response. */
async function keepAlive(url: string): Promise<(method: string, path: string, body?: string) => Promise<RawResponse | undefined>> {
  const { socket, received, closed } = await rawConnect(url);
  let consumed = 0;
  let gone = false;
  void closed.then(() => (gone = true));
  return (method, path, body = '') =>
    new Promise((resolve) => {
      const check = (): void => {
        const r = parseResponse(received().subarray(consumed));
        if (r) {
          socket.off('data', check);
          consumed = received().byteLength;
          resolve(r);
        } else if (gone) resolve(undefined);
      };
      socket.on('data', check);
      void closed.then(check);
      socket.write(httpRequest(method, path, { connection: 'keep-alive', 'content-type': 'application/json' }, body));
    });
}

function refused(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname);
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('SIGTERM drains', () => {
  it('turns not-ready at once, finishes running and queued work, refuses new work with 503, closes connections, exits', async () => {
    const s = await start();
    const probe = await keepAlive(s.url);
    const late = await keepAlive(s.url);
    const busy = await keepAlive(s.url);
    // Warm the connections up, so they are open keep-alive connections when the drain starts.
    expect((await probe('GET', '/ping'))?.status).toBe(200);
    expect((await late('GET', '/ping'))?.status).toBe(200);
    expect((await busy('GET', '/ping'))?.headers['connection']).toBe('keep-alive');
    // One running, three queued behind it (one worker, batch size 1); one of them on a kept-alive connection.
    const work = [0, 1, 2].map(() => fetch(`${s.url}/predictions/probe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"op":"sleep","ms":700}' }));
    const queued = busy('POST', '/predictions/probe', '{"op":"sleep","ms":700}');
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    s.child.kill('SIGTERM');
    await waitFor(() => s.output().includes('shutting down'), 5000, 'the drain log line');

    const ready = await probe('GET', '/v2/health/ready');
    expect(ready?.status).toBe(503);
    expect(ready?.headers['connection']).toBe('close');
    expect(await refused(s.url)).toBe(true);

    const refusedWork = await late('POST', '/predictions/probe', '{"op":"echo"}');
    expect(refusedWork?.status).toBe(503);
    expect(refusedWork?.headers['retry-after']).toBeDefined();
    expect(refusedWork?.headers['connection']).toBe('close');
    expect(JSON.parse(refusedWork!.body).errorCode).toBe('SERVER_DRAINING');

    for (const r of await Promise.all(work)) expect(r.status).toBe(200);
    // Accepted before the drain, answered during it: the answer closes the connection too, so the
    // client's next request goes to another replica instead of to this one.
    const answered = await queued;
    expect(answered?.status).toBe(200);
    expect(answered?.headers['connection']).toBe('close');
    const exit = await s.exited;
    expect(exit.code).toBe(0);
    const elapsed = performance.now() - t0;
    // Three queued requests of 700 ms after the running one, then the stop: well under the grace period.
    expect(elapsed).toBeLessThan(6000);
    const out = s.output();
    expect(out).toContain('"msg":"drained"');
    expect(out).toContain('"msg":"stopped"');
    expect(out).not.toMatch(/worker exited|restarting a worker|ECONNRESET/);
  });

  it('cuts work left after shutdown_grace_period short, and still exits cleanly', async () => {
    const s = await start({ shutdown_grace_period: 1 });
    const slow = fetch(`${s.url}/predictions/probe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"op":"sleep","ms":30000}' });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    s.child.kill('SIGTERM');
    const res = await slow;
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect((await s.exited).code).toBe(0);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('Ctrl-C', () => {
  it('stops a foreground server without reporting a worker crash or restart, and exits at once', async () => {
    const s = await start({}, true);
    // A terminal's Ctrl-C signals the whole process group: the gateway and its workers alike.
    process.kill(-s.pid, 'SIGINT');
    const t0 = performance.now();
    const exit = await s.exited;
    expect(exit.code).toBe(0);
    expect(performance.now() - t0).toBeLessThan(3000);
    const out = s.output();
    expect(out).toContain('"msg":"stopped"');
    expect(out).not.toMatch(/worker exited|restarting a worker|ECONNRESET|socket error/);
  });
});
