import { existsSync } from 'node:fs';
import type { Cluster } from './cluster.js';
import { logFields, outcomes } from './drain.js';
import { epochNow, startLoad, tally, type ConnectionStats, type Outcome } from './load.js';

export interface FailoverOptions {
  signal: 'SIGTERM' | 'SIGKILL';
  /** Which replica goes (index in the cluster). */
  victim: number;
  clients: number;
  handlerMs: number;
  /** Steady load before the signal, and again once the replica is back and answering, ms. */
  loadMs: number;
}

export interface FailoverReport {
  signal: 'SIGTERM' | 'SIGKILL';
  replicas: number;
  clients: number;
  handlerMs: number;
  /** Every request the clients sent through nginx, by outcome. */
  total: Record<Outcome, number>;
  lost: number;
  lostDetail: Record<string, number>;
  /** Answers per replica port: before the signal, while it was away, after it came back. */
  served: { port: number; before: number; away: number; back: number }[];
  victim: {
    port: number;
    /** SIGTERM: what it held when its drain began (its log). */
    queuedAtSignal?: number;
    runningAtSignal?: number;
    /**
     * SIGTERM: what it held (queued + running). SIGKILL: the requests nginx had sent to it and never got
     * an answer for (its error log: a reset or closed connection, not a refused connect).
     */
    inFlightAtSignal: number;
    /** nginx's errors talking to it, by kind (refused: a connect after it stopped listening, nothing sent). */
    upstreamErrors: Record<string, number>;
    exit: string;
    /** From the signal to the exit, ms. */
    exitAfterMs: number;
    /** Its workers still running 10 s after its exit (SIGKILL leaves them to notice on their own). */
    orphanWorkers: number;
  };
  /** What nginx retried on another replica, by the status it got from the first one (502: connection error). */
  retried: Record<string, number>;
  rejoin: {
    /** From the exit to the restarted replica's start banner (its models loaded), ms. */
    restartMs: number;
    /** From the exit to the first answer the restarted replica gave through nginx, ms. */
    firstAnswerMs: number;
  };
  connections: ConnectionStats;
}

async function gone(pids: number[], timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = pids.filter((p) => existsSync(`/proc/${p}`));
    if (left.length === 0 || performance.now() > deadline) return left.length;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Steady keep-alive load through nginx over the cluster's replicas; one replica gets `signal`, is
 * started again on its port once it has exited, and must get traffic again. Leaves the cluster whole.
 */
export async function failover(cluster: Cluster, options: FailoverOptions): Promise<FailoverReport> {
  const victim = cluster.replicas[options.victim]!;
  const ports = cluster.replicas.map((r) => r.port);
  const errorsBefore = (await cluster.nginx.upstreamErrors()).length;
  const load = startLoad({
    url: cluster.nginx.url('all'),
    path: '/predictions/sleep',
    body: Buffer.from(JSON.stringify({ ms: options.handlerMs })),
    contentType: 'application/json',
    clients: options.clients,
  });
  try {
    // Every replica answers before the clock starts.
    await load.until((rs) => ports.every((p) => rs.some((r) => r.upstreamPort === p)), 60_000, 'every replica to answer through nginx');
    await new Promise((r) => setTimeout(r, options.loadMs));
    const workers = victim.workers();
    const signalAt = epochNow();
    victim.signal(options.signal);
    const exit = await victim.exited;
    const exitAt = epochNow();
    await cluster.restart(options.victim);
    const backAt = epochNow();
    // A request sent after the exit and answered from its port was answered by the restarted replica.
    const fromRestarted = (r: { upstreamPort?: number; start: number }): boolean => r.upstreamPort === victim.port && r.start > exitAt;
    await load.until((rs) => rs.some(fromRestarted), 60_000, 'the restarted replica to answer through nginx');
    const rejoinedAt = load.results.find(fromRestarted)!.end;
    await new Promise((r) => setTimeout(r, options.loadMs));
    const { results, connections } = await load.stop();
    const orphanWorkers = await gone(workers, 10_000);

    const access = (await cluster.nginx.accessLog()).filter((e) => e.site === 'all' && e.endMs >= results[0]!.start);
    const retried: Record<string, number> = {};
    for (const e of access) for (const a of e.attempts.slice(0, -1)) retried[String(a.status)] = (retried[String(a.status)] ?? 0) + 1;
    const upstreamErrors: Record<string, number> = {};
    for (const e of (await cluster.nginx.upstreamErrors()).slice(errorsBefore)) {
      if (e.port === victim.port) upstreamErrors[e.kind] = (upstreamErrors[e.kind] ?? 0) + 1;
    }
    const t = tally(results);
    const shuttingDown = options.signal === 'SIGTERM' ? logFields(victim.output(), 'shutting down') : undefined;
    const inFlightAtSignal = shuttingDown
      ? Number(shuttingDown['queued']) + Number(shuttingDown['running'])
      : Object.entries(upstreamErrors).reduce((n, [kind, count]) => n + (kind === 'refused' ? 0 : count), 0);
    return {
      signal: options.signal,
      replicas: cluster.replicas.length,
      clients: options.clients,
      handlerMs: options.handlerMs,
      total: outcomes(results),
      lost: t.failed + t.error,
      lostDetail: t.lostDetail,
      served: ports.map((port) => ({
        port,
        before: results.filter((r) => r.upstreamPort === port && r.end < signalAt).length,
        away: results.filter((r) => r.upstreamPort === port && r.end >= signalAt && r.end < rejoinedAt).length,
        back: results.filter((r) => r.upstreamPort === port && r.end >= rejoinedAt).length,
      })),
      victim: {
        port: victim.port,
        ...(shuttingDown ? { queuedAtSignal: Number(shuttingDown['queued']), runningAtSignal: Number(shuttingDown['running']) } : {}),
        inFlightAtSignal,
        upstreamErrors,
        exit: exit.code !== null ? `code ${exit.code}` : `signal ${exit.signal}`,
        exitAfterMs: Math.round(exitAt - signalAt),
        orphanWorkers,
      },
      retried,
      rejoin: { restartMs: Math.round(backAt - exitAt), firstAnswerMs: Math.round(rejoinedAt - exitAt) },
      connections,
    };
  } finally {
    await load.stop();
  }
}
