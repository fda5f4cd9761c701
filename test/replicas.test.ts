import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareFixture, startCluster, type Cluster, type Fixture } from '../bench/src/replicas/cluster.js';
import { drainUnderLoad } from '../bench/src/replicas/drain.js';
import { failover } from '../bench/src/replicas/failover.js';
import { nginxConfig } from '../bench/src/replicas/nginx.js';
import { freePort, startReplica } from '../bench/src/replicas/replica.js';
import { SETUP_LABELS, throughput } from '../bench/src/replicas/throughput.js';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { waitFor } from './helpers/wait.js';

/**
 * Replicas as real processes on loopback: one drained under keep-alive load, then three behind
 * Debian's nginx (started here, in the foreground, with its own config) losing one to SIGTERM and one
 * to SIGKILL, each started again on its port, and the throughput of three against one. The short
 * version of `npm run replicas` (bench/src/replicas/run.ts), which runs each phase longer and prints
 * the figures docs/deployment.md quotes.
 */

const LONG = 180_000;
let fixture: Fixture;
let cluster: Cluster | undefined;
const processes: number[] = [];

beforeAll(async () => {
  fixture = await prepareFixture();
});
afterAll(async () => {
  await cluster?.stop();
  await fixture?.cleanup();
  // Nothing the file started outlives it: nginx's master and workers, gateways, their workers.
  expect(processes.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
});

function total(o: Record<string, number>): number {
  return Object.values(o).reduce((a, b) => a + b, 0);
}

describe('a replica drained under load', () => {
  it('turns not-ready at once, answers all it held, refuses new work with 503 + Retry-After, closes its connections without a reset, exits 0', { timeout: LONG }, async () => {
    const clients = 16;
    const r = await drainUnderLoad(fixture, { clients, handlerMs: 50, loadMs: 1000 });
    console.log(`drain under load: ${JSON.stringify(r)}`);
    expect(r.readiness).toBe('503');
    // "At once": the first probe after the signal; the bound is for a loaded shared machine.
    expect(r.notReadyAfterMs).toBeLessThan(1000);
    // One worker, batches of 4, 16 clients: work was running and queued when the drain began.
    expect(r.server.running).toBeGreaterThan(0);
    expect(r.server.queued).toBeGreaterThan(0);
    expect(r.inFlightAtSignal).toEqual({ ok: clients, draining: 0, refused: 0, failed: 0, error: 0 });
    // Their answers close the connections, so the clients reconnect (here: refused, nothing listens).
    expect(r.inFlightConnectionClose).toBe(clients);
    expect(r.afterSignal.refused).toBeGreaterThan(0);
    // A connection idle at SIGTERM (a balancer's pooled one) that brings new work gets the 503.
    expect(r.idleConnection).toMatchObject({ reused: true, status: 503, code: 'SERVER_DRAINING', connectionClose: true });
    expect(Number(r.idleConnection.retryAfter)).toBeGreaterThan(0);
    expect(r.drainingAnswers.retryAfter).toBe(r.drainingAnswers.total);
    expect(r.connections.errors).toEqual({});
    expect(r.connections.closedCleanly).toBe(r.connections.opened);
    expect(r.exitCode).toBe(0);
    expect(r.lost).toBe(0);
  });
});

describe('a replica coming back', () => {
  it('answers 503 SERVER_NOT_READY with Retry-After, not 404, for its models while it still loads them', { timeout: LONG }, async () => {
    // An unpacked archive whose manifest is a FIFO: the replica listens (probes answer) and its
    // start-up blocks reading the manifest until the test writes it.
    const store = await tempDir('ms-replicas-loading-');
    await buildModel(store, { name: 'probe', format: 'no-archive' });
    const manifestPath = join(store, 'probe', 'MAR-INF', 'MANIFEST.json');
    const manifest = await readFile(manifestPath);
    await rm(manifestPath);
    execFileSync('mkfifo', [manifestPath]);
    const port = await freePort();
    const starting = startReplica({ dir: join(store, 'replica'), store, models: ['probe=probe'], port });
    starting.catch(() => undefined);
    let written = false;
    // The manifest arrives (a regular file again for anyone reading it later), and start-up goes on.
    const release = async (): Promise<void> => {
      if (written) return;
      written = true;
      await writeFile(manifestPath, manifest);
      await rm(manifestPath);
      await writeFile(manifestPath, manifest);
    };
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(async () => (await fetch(`${url}/v2/health/live`).catch(() => undefined))?.status === 200, 60_000, 'the replica to listen');
      const early = await fetch(`${url}/predictions/probe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"op":"echo"}' });
      const body = (await early.json()) as { errorCode?: string };
      expect(early.status).toBe(503);
      expect(body.errorCode).toBe('SERVER_NOT_READY');
      expect(Number(early.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await fetch(`${url}/v2/health/ready`)).status).toBe(503);
      await release();
      await starting;
      const res = await fetch(`${url}/predictions/probe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"op":"echo"}' });
      expect(res.status).toBe(200);
      // Once start-up is over, a model it does not have is a 404 again.
      expect((await fetch(`${url}/predictions/nope`, { method: 'POST', body: '{}' })).status).toBe(404);
    } finally {
      // Whatever failed, the replica is not left blocked on the FIFO.
      await release();
      await (await starting.catch(() => undefined))?.stop();
    }
  });
});

describe('three replicas behind nginx', () => {
  beforeAll(async () => {
    cluster = await startCluster(fixture, { count: 3, models: [fixture.models.sleep, fixture.models.mnist] });
    processes.push(cluster.nginx.pid, ...cluster.nginx.workers());
  });
  const track = (): void => {
    for (const r of cluster!.replicas) processes.push(r.pid, ...r.workers());
  };

  it('the test runs nginx as docs/deployment.md configures it: loopback only, keep-alive upstreams, the retry policy', async () => {
    const conf = await readFile(join(fixture.dir, 'nginx', 'nginx.conf'), 'utf8');
    expect(conf).toBe(nginxConfig(join(fixture.dir, 'nginx'), [
      { name: 'all', port: Number(new URL(cluster!.nginx.url('all')).port), upstreams: cluster!.replicas.map((r) => r.port) },
      { name: 'one', port: Number(new URL(cluster!.nginx.url('one')).port), upstreams: [cluster!.replicas[0]!.port] },
    ]));
    for (const listen of conf.match(/^\s*listen .*$/gm) ?? []) expect(listen.trim()).toMatch(/^listen 127\.0\.0\.1:\d+;$/);
    expect(conf).toMatch(/daemon off;/);
    const docs = await readFile(join(ROOT, 'docs', 'deployment.md'), 'utf8');
    // Every directive of the upstream block and the proxied location is in the documented config (but
    // the upstream's name, and the X-Upstream header the tests read).
    const directives = conf
      .split('\n')
      .map((l) => l.trim().replace(/^server 127\.0\.0\.1:\d+ /, 'server '))
      .filter((l) => /^(keepalive |proxy_(?!pass |temp_path )|server max_fails)/.test(l));
    expect(directives.length).toBeGreaterThan(8);
    for (const d of new Set(directives)) expect(docs, d).toContain(d.replace(/^server /, ''));
  });

  it('SIGTERM of one loses no request; nginx retries only refused connects and 503s; it comes back and gets traffic', { timeout: LONG }, async () => {
    track();
    const r = await failover(cluster!, { signal: 'SIGTERM', victim: 1, clients: 12, handlerMs: 20, loadMs: 1500 });
    track();
    console.log(`SIGTERM behind nginx: ${JSON.stringify(r)}`);
    expect(r.lost).toBe(0);
    expect(r.total.ok).toBe(total(r.total));
    expect(r.victim.exit).toBe('code 0');
    // Nothing it was sent died with it: the only errors are connects after it stopped listening.
    expect(Object.keys(r.victim.upstreamErrors).filter((k) => k !== 'refused')).toEqual([]);
    for (const status of Object.keys(r.retried)) expect(['502', '503']).toContain(status);
    for (const s of r.served) expect(s.before, `replica ${s.port} before`).toBeGreaterThan(0);
    for (const s of r.served) expect(s.back, `replica ${s.port} after the rejoin`).toBeGreaterThan(0);
    expect(r.victim.orphanWorkers).toBe(0);
    expect(r.connections.errors).toEqual({});
  });

  it('SIGKILL of one loses at most what it had in flight, every other request succeeds; it comes back and gets traffic', { timeout: LONG }, async () => {
    track();
    const r = await failover(cluster!, { signal: 'SIGKILL', victim: 2, clients: 12, handlerMs: 20, loadMs: 1500 });
    track();
    console.log(`SIGKILL behind nginx: ${JSON.stringify(r)}`);
    expect(r.victim.exit).toBe('signal SIGKILL');
    expect(r.lost).toBeLessThanOrEqual(r.victim.inFlightAtSignal);
    // What is lost is nginx's 502 for the requests the dead replica had; everything else is a 200.
    for (const key of Object.keys(r.lostDetail)) expect(key).toBe('502');
    expect(r.total.ok + r.lost).toBe(total(r.total));
    for (const s of r.served) expect(s.back, `replica ${s.port} after the rejoin`).toBeGreaterThan(0);
    // Its workers notice the gateway is gone and exit on their own.
    expect(r.victim.orphanWorkers).toBe(0);
    expect(r.connections.errors).toEqual({});
  });

  it('throughput of 3 replicas against 1 is measured with the CPU every process spent per request', { timeout: LONG }, async () => {
    track();
    const rows = await throughput(cluster!, fixture, { clients: 16, windowMs: 2000, warmupMs: 500, rounds: 1 });
    for (const row of rows) {
      console.log(`${SETUP_LABELS[row.setup]}: ${JSON.stringify(row)}`);
      expect(row.errors).toBe(0);
      expect(row.requests).toBeGreaterThan(0);
      expect(row.cpuMsPerRequest.gateways).toBeGreaterThan(0);
      expect(row.cpuMsPerRequest.workers).toBeGreaterThan(0);
      // The accounting cannot find more CPU than the machine has (10 % for the readings' granularity).
      expect(row.cores.ours).toBeLessThanOrEqual(row.cores.cpus * 1.1);
    }
    expect(rows.map((r) => r.setup)).toEqual(['direct-1', 'nginx-1', 'nginx-3']);
    expect(rows[0]!.cpuMsPerRequest.nginx).toBeLessThan(rows[1]!.cpuMsPerRequest.nginx);
  });
});
