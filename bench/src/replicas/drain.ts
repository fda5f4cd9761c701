import { Agent, get } from 'node:http';
import { join } from 'node:path';
import type { Fixture } from './cluster.js';
import { epochNow, sendOne, startLoad, tally, type ConnectionStats, type Outcome, type RequestResult } from './load.js';
import { freePort, startReplica, type Replica } from './replica.js';

export interface DrainOptions {
  clients: number;
  /** Handler time per request (the sleep model), ms. */
  handlerMs: number;
  /** Steady load before SIGTERM, ms. */
  loadMs: number;
  /** shutdown_grace_period, s. */
  graceS?: number;
  /** false: the clients open a connection per request instead of keeping one. */
  keepAlive?: boolean;
}

export interface DrainReport {
  clients: number;
  handlerMs: number;
  /** Requests answered before SIGTERM. */
  before: number;
  /** What the server said it held when the drain began (its "shutting down" log line). */
  server: { queued: number; running: number; drainedMs: number | undefined };
  /** Requests the clients had sent and not had answered at SIGTERM, by outcome. */
  inFlightAtSignal: Record<Outcome, number>;
  /** Of those, how many answers said `Connection: close` (so the client's next request goes elsewhere). */
  inFlightConnectionClose: number;
  /** Requests sent after SIGTERM, by outcome: refused work answers `draining`, a closed port `refused`. */
  afterSignal: Record<Outcome, number>;
  /** Of the 503s after SIGTERM: how many had Retry-After and Connection: close. */
  drainingAnswers: { total: number; retryAfter: number; connectionClose: number };
  /**
   * A request sent during the drain on a connection that was idle at SIGTERM (as a balancer's pooled
   * connection is): the new work that reaches a draining replica.
   */
  idleConnection: { reused: boolean; status?: number; code?: string; retryAfter?: string; connectionClose: boolean };
  /** From SIGTERM to the first readiness answer that was not 200, and what it was. */
  notReadyAfterMs: number;
  readiness: string;
  /** From SIGTERM to the process' exit. */
  exitAfterMs: number;
  exitCode: number | null;
  connections: ConnectionStats;
  /** Lost: answered neither 200 nor 503 SERVER_DRAINING, and not refused before being sent. */
  lost: number;
  lostDetail: Record<string, number>;
}

/** The fields of the first JSON log line whose message starts with `msg`. */
export function logFields(output: string, msg: string): Record<string, unknown> | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (typeof o['msg'] === 'string' && o['msg'].startsWith(msg)) return o;
    } catch {
      // A partial line or not JSON.
    }
  }
  return undefined;
}

/**
 * Asks `/v2/health/ready` over and over on one kept-alive connection, as a kubelet's probe would ask
 * (here continuously); resolves with the first answer that is not 200 at or after `from()`.
 */
function probeReadiness(url: string, from: () => number | undefined): { first: Promise<{ at: number; what: string }>; stop(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let running = true;
  const ask = (): Promise<string> =>
    new Promise((resolve) => {
      const req = get(`${url}/v2/health/ready`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
  const first = (async () => {
    for (;;) {
      const what = await ask();
      const at = epochNow();
      const since = from();
      if (since !== undefined && what !== '200') return { at, what };
      if (!running) return { at, what: 'stopped' };
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    first,
    stop: () => {
      running = false;
      agent.destroy();
    },
  };
}

/**
 * One replica under steady keep-alive load gets SIGTERM. Shows it turns not-ready at once, answers
 * everything it had (running and queued) with 200, refuses new work with 503 SERVER_DRAINING +
 * Retry-After, closes its connections without a reset and exits; the clients keep sending throughout.
 */
export async function drainUnderLoad(fixture: Fixture, options: DrainOptions): Promise<DrainReport> {
  const replica: Replica = await startReplica({
    dir: join(fixture.dir, 'drain'),
    store: fixture.store,
    models: [fixture.models.sleep],
    port: await freePort(),
    properties: { shutdown_grace_period: options.graceS ?? 30 },
  });
  const load = startLoad({ url: replica.url, path: '/predictions/sleep', body: Buffer.from(JSON.stringify({ ms: options.handlerMs })), contentType: 'application/json', clients: options.clients, keepAlive: options.keepAlive });
  let signalAt: number | undefined;
  const probe = probeReadiness(replica.url, () => signalAt);
  const idleAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const idleRequest = { url: replica.url, path: '/predictions/sleep', body: Buffer.from(JSON.stringify({ ms: 1 })), contentType: 'application/json' };
  try {
    // Every client has its connection and has been answered once before the clock starts.
    await load.until((rs) => rs.filter((r) => r.outcome === 'ok').length >= options.clients * 2, 60_000, 'the clients to be answered');
    const warm = await sendOne(idleAgent, idleRequest);
    if (warm.outcome !== 'ok') throw new Error(`the idle connection's first request failed: ${JSON.stringify(warm)}`);
    await new Promise((r) => setTimeout(r, options.loadMs));
    const before = load.results.length;
    signalAt = epochNow();
    replica.signal('SIGTERM');
    const notReady = await probe.first;
    const late = await sendOne(idleAgent, idleRequest);
    const exit = await replica.exited;
    const exitAt = epochNow();
    probe.stop();
    const { results, connections } = await load.stop();
    const signal = signalAt;
    const inFlight = results.filter((r) => r.start < signal && r.end >= signal);
    const after = results.filter((r) => r.start >= signal);
    const drainingAnswers = after.filter((r) => r.status === 503);
    const all = tally(results);
    const shuttingDown = logFields(replica.output(), 'shutting down');
    const drained = logFields(replica.output(), 'drained');
    return {
      clients: options.clients,
      handlerMs: options.handlerMs,
      before,
      server: { queued: Number(shuttingDown?.['queued'] ?? -1), running: Number(shuttingDown?.['running'] ?? -1), drainedMs: drained ? Number(drained['ms']) : undefined },
      inFlightAtSignal: outcomes(inFlight),
      inFlightConnectionClose: inFlight.filter((r) => r.connectionClose).length,
      afterSignal: outcomes(after),
      drainingAnswers: {
        total: drainingAnswers.length,
        retryAfter: drainingAnswers.filter((r) => r.retryAfter !== undefined).length,
        connectionClose: drainingAnswers.filter((r) => r.connectionClose).length,
      },
      idleConnection: { reused: late.reusedSocket, status: late.status, code: late.code, retryAfter: late.retryAfter, connectionClose: late.connectionClose },
      notReadyAfterMs: Math.round(notReady.at - signal),
      readiness: notReady.what,
      exitAfterMs: Math.round(exitAt - signal),
      exitCode: exit.code,
      connections,
      lost: all.failed + all.error,
      lostDetail: all.lostDetail,
    };
  } finally {
    probe.stop();
    idleAgent.destroy();
    await load.stop();
    await replica.stop();
  }
}

export function outcomes(results: readonly RequestResult[]): Record<Outcome, number> {
  const { ok, draining, refused, failed, error } = tally(results);
  return { ok, draining, refused, failed, error };
}
