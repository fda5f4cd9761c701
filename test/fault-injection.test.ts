import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerPids, workerRestarts } from './helpers/invariants.js';
import { ClosedLoop, percentile, summarize, type Outcome } from './helpers/load.js';
import { alive } from './helpers/management.js';
import { buildModel, tempDir } from './helpers/models.js';
import { cpuMs, isStopped, nodeBootMs, parentPid, workerProcesses } from './helpers/processes.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { seededRandom } from './helpers/speech.js';
import { waitFor } from './helpers/wait.js';

/**
 * Faults injected into real processes under load: workers killed with SIGKILL, a worker frozen with
 * SIGSTOP, the server drained with SIGTERM. Every request must be answered (none hung, no connection
 * reset), and the server must recover within the bounds below. Figures go to stderr as
 * `[reliability] ...` lines (docs/reliability.md quotes them).
 */
const ECHO = '{"op":"echo"}';

function report(line: string): void {
  process.stderr.write(`[reliability] ${line}\n`);
}

interface Described {
  pid: number;
  status: string;
  startTime: string;
}

/**
 * Waits until describe lists `count` READY workers of `model`, none of them in `gone`; returns when
 * (Date.now()) and those workers.
 */
async function ready(server: ServerProcess, model: string, count: number, gone: readonly number[], timeoutMs = 10_000): Promise<{ at: number; workers: Described[] }> {
  let live: Described[] = [];
  await waitFor(
    async () => {
      const res = await fetch(`${server.management}/models/${model}`);
      const [d] = (await res.json()) as { workers: Described[] }[];
      live = d!.workers.filter((w) => w.status === 'READY' && !gone.includes(w.pid));
      return live.length === count;
    },
    timeoutMs,
    `${count} ready worker(s) of ${model}`,
  );
  return { at: Date.now(), workers: live };
}

function expectAllAnswered(outcomes: readonly Outcome[], allowed: (o: Outcome) => boolean, what: string): void {
  const bad = outcomes.filter((o) => o.hung || o.error !== undefined || !allowed(o));
  expect(bad.slice(0, 5), `${what}: ${bad.length} of ${outcomes.length} requests not answered as allowed (${JSON.stringify(summarize(outcomes))})`).toEqual([]);
}

describe('workers killed or frozen under load', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    const store = await tempDir();
    await buildModel(store, { name: 'victim', config: 'minWorkers: 2\nbatchSize: 4\nmaxBatchDelay: 0\n' });
    await buildModel(store, { name: 'frozen', config: 'minWorkers: 1\nbatchSize: 1\n' });
    server = await startServerProcess({ store, models: ['victim=victim.mar', 'frozen=frozen.mar'], properties: { cancel_grace_period: 1 } });
  });
  afterAll(() => server?.stop());

  it('answers every request through 5 kill -9 of workers (200 or 500 WORKER_DIED); each worker respawned after the 1 s backoff and serving within 2 s', async () => {
    const restartsBefore = await workerRestarts(server.metrics);
    const bootBefore = nodeBootMs();
    // 16 clients each sending about 100 requests a second: busy, but below what saturates both cores
    // (there, a new process takes longer to boot than the restart itself; docs/reliability.md).
    const load = new ClosedLoop({ url: server.url, concurrency: 16, timeoutMs: 15_000, thinkMs: 10, next: () => ({ path: '/predictions/victim', body: ECHO }) });
    const rounds: { recovery: number; respawn: number; boot: number; bootCpu: number }[] = [];
    try {
      await load.answered(500);
      for (let round = 0; round < 5; round++) {
        const pids = await workerPids(server.management, 'victim');
        // The last round kills both workers at once: the model has none until they are back.
        const victims = round === 4 ? pids : [pids[round % pids.length]!];
        const t0 = Date.now();
        for (const pid of victims) process.kill(pid, 'SIGKILL');
        const back = await ready(server, 'victim', 2, victims);
        for (const w of back.workers.filter((x) => !pids.includes(x.pid))) {
          const spawned = Date.parse(w.startTime);
          rounds.push({ recovery: back.at - t0, respawn: spawned - t0, boot: back.at - spawned, bootCpu: cpuMs(w.pid) });
        }
        await load.answered(300);
      }
    } finally {
      await load.stop();
    }
    const outcomes = load.outcomes;
    expectAllAnswered(outcomes, (o) => o.status === 200 || (o.status === 500 && o.errorCode === 'WORKER_DIED'), 'kill -9');
    const died = outcomes.filter((o) => o.status === 500).length;
    const boot = Math.max(bootBefore, nodeBootMs());
    const list = (k: keyof (typeof rounds)[number]): string => rounds.map((r) => Math.round(r[k])).join(', ');
    report(
      `kill -9: ${outcomes.length} requests, ${outcomes.length - died} x 200, ${died} x 500 WORKER_DIED, 0 hung, 0 reset; ` +
        `recovery ${list('recovery')} ms (last round: both workers) = respawn after ${list('respawn')} ms (1 s backoff) + boot ${list('boot')} ms (${list('bootCpu')} ms CPU); node -e 0 took ${Math.round(boot)} ms`,
    );
    expect(rounds.length).toBe(6);
    for (const r of rounds) {
      // The server's part: it sees the exit and respawns once the 1 s backoff (TorchServe's) is over
      // (a few ms after it when idle, 250 ms after it measured with the machine saturated).
      expect(r.respawn).toBeGreaterThanOrEqual(1000);
      expect(r.respawn).toBeLessThan(1500);
      // The worker's part: booting node, the SDK and the handler, and loading the model.
      expect(r.bootCpu).toBeLessThan(700);
      // Together under 2 s, where a process boots as fast as it does on an idle machine (node -e 0 in
      // about 40 ms); on a machine other work saturates, every boot is slower by the same factor and
      // only the two parts above are held to a bound.
      if (boot < 100) expect(r.recovery).toBeLessThan(2000);
    }
    expect(await workerRestarts(server.metrics)).toBe(restartsBefore + 6);
  });

  it('answers 504 on time for a SIGSTOPped worker and replaces it after cancel_grace_period', async () => {
    const [old] = await workerPids(server.management, 'frozen');
    const restartsBefore = await workerRestarts(server.metrics);
    const deadlineMs = 500;
    process.kill(old!, 'SIGSTOP');
    await waitFor(() => isStopped(old!), 2000, 'the worker to stop');
    const t0 = Date.now();
    const load = new ClosedLoop({
      url: server.url,
      concurrency: 4,
      timeoutMs: 10_000,
      next: () => ({ path: '/predictions/frozen', body: ECHO, headers: { 'x-request-timeout-ms': String(deadlineMs) } }),
    });
    let replacedMs: number;
    try {
      replacedMs = (await ready(server, 'frozen', 1, [old!])).at - t0;
      await load.answered(40);
    } finally {
      await load.stop();
    }
    const outcomes = load.outcomes;
    expectAllAnswered(outcomes, (o) => o.status === 200 || (o.status === 504 && o.errorCode === 'REQUEST_TIMEOUT'), 'SIGSTOP');
    const late = outcomes.filter((o) => o.status === 504).map((o) => o.ms);
    expect(late.length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(0);
    report(
      `SIGSTOP: ${outcomes.length} requests with a ${deadlineMs} ms deadline, ${late.length} x 504 (latency p50 ${Math.round(percentile(late, 50))} ms, max ${Math.round(Math.max(...late))} ms), ` +
        `${outcomes.length - late.length} x 200; frozen worker killed and replaced ${Math.round(replacedMs)} ms after the stop (cancel_grace_period 1 s, restart backoff 1 s)`,
    );
    // A deadline fires on time whatever the worker does (the margin is the client's and the gateway's
    // scheduling on a saturated machine: up to 240 ms measured there, a few ms at idle).
    expect(Math.max(...late)).toBeLessThan(deadlineMs + 500);
    expect(alive(old!)).toBe(false);
    expect(server.output()).toMatch(/ignored its cancellation/);
    expect(await workerRestarts(server.metrics)).toBe(restartsBefore + 1);
    expect(replacedMs).toBeLessThan(5000);
  });
});

describe('SIGTERM under load', () => {
  it('loses nothing: every request gets 200 or 503 with Retry-After and Connection: close, never a reset; the process exits 0', async () => {
    const store = await tempDir();
    await buildModel(store, { name: 'probe', config: 'minWorkers: 2\nbatchSize: 4\nmaxBatchDelay: 0\n' });
    const server = await startServerProcess({ store, models: ['probe=probe.mar'], properties: { shutdown_grace_period: 20 } });
    try {
      // Requests that take a while, so that some are running and some queued when the signal comes.
      const load = new ClosedLoop({ url: server.url, concurrency: 16, timeoutMs: 30_000, stopWhenRefused: true, next: () => ({ path: '/predictions/probe', body: '{"op":"sleep","ms":20}' }) });
      await load.answered(300);
      const t0 = performance.now();
      server.child.kill('SIGTERM');
      const outcomes = await load.finished();
      const { code, signal } = await server.exited;
      const exitMs = performance.now() - t0;
      const after = outcomes.filter((o) => o.at >= t0);
      // Sent well before the signal (the server had them queued or running) and answered after it.
      const duringDrain = outcomes.filter((o) => o.at < t0 - 200 && o.at + o.ms > t0);
      expectAllAnswered(
        outcomes.filter((o) => o.error !== 'ECONNREFUSED'),
        (o) => o.status === 200 || (o.status === 503 && o.errorCode === 'SERVER_DRAINING' && o.retryAfter !== undefined && o.connection === 'close'),
        'SIGTERM',
      );
      // Refused connections are new ones made after the listener closed: the client goes elsewhere.
      for (const o of outcomes.filter((x) => x.error === 'ECONNREFUSED')) {
        expect(o.at).toBeGreaterThanOrEqual(t0);
        expect(o.fresh).toBe(true);
      }
      // What was running or queued when the signal came is finished, not cut short. (A request sent
      // just before the signal may arrive after it, and is refused like any later one.)
      for (const o of duringDrain) expect(o.status).toBe(200);
      expect(outcomes.filter((o) => o.at < t0 && o.at + o.ms > t0 && o.status === 200).length, 'requests in flight at the signal that finished').toBeGreaterThan(0);
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(server.output()).toMatch(/shutting down/);
      const counts = summarize(outcomes);
      report(
        `SIGTERM drain: ${outcomes.length} requests from 16 keep-alive clients, ${outcomes.filter((o) => o.at < t0 && o.at + o.ms > t0 && o.status === 200).length} in flight at the signal finished with 200; sent after it ${JSON.stringify(summarize(after))}; ` +
          `0 reset, 0 hung; exit code 0 ${Math.round(exitMs)} ms after the signal (overall ${JSON.stringify(counts)})`,
      );
    } finally {
      await server.stop();
    }
  });
});

describe('register, scale and unregister racing predictions', () => {
  const seconds = Number(process.env['RACE_SECONDS'] ?? 20);
  it(`for ${seconds} s: no hung request, no DELETE answered 408, no 5xx, no leaked worker process`, async () => {
    const seed = Number(process.env['RACE_SEED'] ?? Date.now() % 1_000_000);
    const store = await tempDir();
    await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nbatchSize: 4\nmaxBatchDelay: 0\n' });
    const server = await startServerProcess({
      store,
      models: ['probe=probe.mar'],
      properties: { enable_model_api: true, model_store: store, max_workers_per_model: 3, default_startup_timeout: 30 },
    });
    try {
      const [probeWorker] = await workerPids(server.management, 'probe');
      const gateway = parentPid(probeWorker!)!;
      const workersBefore = workerProcesses(gateway);
      expect(workersBefore).toEqual([probeWorker]);

      // Seeded, so a failing race can be replayed with RACE_SEED (the timing still varies).
      const rnd = seededRandom(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const load = new ClosedLoop({
        url: server.url,
        concurrency: 8,
        timeoutMs: 30_000,
        next: (c) => ({ path: c < 6 ? '/predictions/race' : '/predictions/probe', body: ECHO }),
      });
      const management: { op: string; status: number; errorCode?: string; ms: number }[] = [];
      const deadline = performance.now() + seconds * 1000;
      const actor = async (): Promise<void> => {
        while (performance.now() < deadline) {
          const sync = pick(['true', 'false']);
          const op = pick(['register', 'register', 'scale', 'scale', 'unregister', 'unregister', 'describe']);
          const path =
            op === 'register'
              ? `/models?url=probe.mar&model_name=race&initial_workers=${pick([0, 1, 2])}&synchronous=${sync}`
              : op === 'scale'
                ? `/models/race?min_worker=${pick([0, 1, 2, 3])}&max_worker=3&synchronous=${sync}`
                : '/models/race';
          const method = { register: 'POST', scale: 'PUT', unregister: 'DELETE', describe: 'GET' }[op]!;
          const t = performance.now();
          const res = await fetch(`${server.management}${path}`, { method, signal: AbortSignal.timeout(60_000) });
          const text = await res.text();
          const entry: { op: string; status: number; errorCode?: string; ms: number } = { op: `${method} ${path}`, status: res.status, ms: performance.now() - t };
          if (res.status >= 400) entry.errorCode = (JSON.parse(text) as { errorCode?: string }).errorCode;
          management.push(entry);
        }
      };
      try {
        await Promise.all([actor(), actor()]);
      } finally {
        await load.stop();
      }

      const what = `race (RACE_SEED=${seed})`;
      // The model that comes and goes may be missing (404) or have no worker (503 to retry); the stable one always answers.
      expectAllAnswered(load.outcomes.filter((o) => o.path === '/predictions/race'), (o) => o.status === 200 || (o.status === 404 && o.errorCode === 'MODEL_NOT_FOUND') || (o.status === 503 && o.retryAfter !== undefined), what);
      expectAllAnswered(load.outcomes.filter((o) => o.path === '/predictions/probe'), (o) => o.status === 200, `${what}, the stable model`);
      const badManagement = management.filter((m) => m.status >= 500 || m.status === 408);
      expect(badManagement, `${what}: management answers ${JSON.stringify(badManagement.slice(0, 8))}`).toEqual([]);
      // Whatever the race left, unregistering it stops its workers: only the probe's worker remains.
      const last = await fetch(`${server.management}/models/race`, { method: 'DELETE' });
      expect([200, 404]).toContain(last.status);
      await waitFor(() => workerProcesses(gateway).length === 1, 10_000, 'the race model workers to end');
      expect(workerProcesses(gateway)).toEqual(workersBefore);
      report(
        `register/scale/unregister race, ${seconds} s (RACE_SEED=${seed}): ${management.length} management calls ${JSON.stringify(summarizeManagement(management))}, ` +
          `slowest ${Math.round(Math.max(...management.map((m) => m.ms)))} ms; ${load.outcomes.length} predictions ${JSON.stringify(summarize(load.outcomes))}; ` +
          `worker processes before ${workersBefore.length}, after ${workerProcesses(gateway).length}`,
      );
    } finally {
      await server.stop();
    }
  }, (Number(process.env['RACE_SECONDS'] ?? 20) + 60) * 1000);
});

function summarizeManagement(calls: readonly { op: string; status: number; errorCode?: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) {
    const key = `${c.op.split(' ')[0]} ${c.status}${c.errorCode ? ` ${c.errorCode}` : ''}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
