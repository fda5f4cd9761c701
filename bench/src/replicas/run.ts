/**
 * `npm run replicas -- [--seconds 30] [--clients 12] [--rounds 3] [--only drain,sigterm,sigkill,throughput,drain-churn]
 *   [--next-upstream "error timeout"] [--json out.json]`
 *
 * The long version of test/replicas.test.ts: a replica drained under load, three replicas behind
 * Debian's nginx losing one to SIGTERM and one to SIGKILL (each comes back), and the throughput of
 * three replicas against one. `--seconds` is the steady load of each phase. `drain-churn` (not run by
 * default) drains `--rounds` times under clients that open a connection per request. `--next-upstream`
 * replaces nginx's retry policy, to compare. Prints Markdown tables.
 */
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { median } from '../stats.js';
import { prepareFixture, startCluster, type Cluster, type Fixture } from './cluster.js';
import { drainUnderLoad, type DrainReport } from './drain.js';
import { failover, type FailoverReport } from './failover.js';
import { NEXT_UPSTREAM } from './nginx.js';
import { SETUP_LABELS, throughput, type Setup, type ThroughputRow } from './throughput.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '12' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string', default: 'drain,sigterm,sigkill,throughput' },
    'next-upstream': { type: 'string' },
    json: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const only = new Set(values.only.split(','));

const outcomeCells = (o: Record<string, number>): string => `${o['ok']} | ${o['draining']} | ${o['refused']} | ${(o['failed'] ?? 0) + (o['error'] ?? 0)}`;

function drainTable(r: DrainReport): string {
  return [
    `### Drain under load (1 replica, ${r.clients} keep-alive clients, ${r.handlerMs} ms per request, batches of 4)`,
    '',
    '| Requests | 200 | 503 SERVER_DRAINING | refused (not sent) | lost |',
    '|---|---|---|---|---|',
    `| before SIGTERM | ${r.before} | | | |`,
    `| in flight at SIGTERM | ${outcomeCells(r.inFlightAtSignal)} |`,
    `| sent after SIGTERM | ${outcomeCells(r.afterSignal)} |`,
    '',
    `- server at SIGTERM: ${r.server.running} running, ${r.server.queued} queued; drained in ${r.server.drainedMs} ms`,
    `- readiness: ${r.readiness} ${r.notReadyAfterMs} ms after SIGTERM; exit code ${r.exitCode} ${r.exitAfterMs} ms after SIGTERM`,
    `- answers to the requests in flight with Connection: close: ${r.inFlightConnectionClose} of ${Object.values(r.inFlightAtSignal).reduce((a, b) => a + b, 0)}`,
    `- 503s to the clients: ${r.drainingAnswers.total}, with Retry-After ${r.drainingAnswers.retryAfter}, with Connection: close ${r.drainingAnswers.connectionClose}`,
    `- a request on a connection idle at SIGTERM (reused: ${r.idleConnection.reused}): ${r.idleConnection.status} ${r.idleConnection.code}, Retry-After ${r.idleConnection.retryAfter}, Connection: close ${r.idleConnection.connectionClose}`,
    `- connections: ${r.connections.opened} opened, ${r.connections.closedCleanly} closed cleanly, errors ${JSON.stringify(r.connections.errors)}`,
    `- lost: ${r.lost} ${JSON.stringify(r.lostDetail)}`,
    '',
  ].join('\n');
}

function churnTable(rs: DrainReport[]): string {
  const sum = (f: (r: DrainReport) => number): number => rs.reduce((n, r) => n + f(r), 0);
  const errors: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r.lostDetail)) errors[k] = (errors[k] ?? 0) + v;
  return [
    `### Drain under clients that connect per request (${rs.length} drains, ${rs[0]?.clients} clients, ${rs[0]?.handlerMs} ms per request)`,
    '',
    '| Drain | in flight at SIGTERM: 200 | sent after: 503 SERVER_DRAINING | refused | lost |',
    '|---|---|---|---|---|',
    ...rs.map((r, i) => `| ${i + 1} | ${r.inFlightAtSignal.ok} | ${r.afterSignal.draining} | ${r.afterSignal.refused} | ${r.lost} ${JSON.stringify(r.lostDetail)} |`),
    '',
    `- lost in all: ${sum((r) => r.lost)} ${JSON.stringify(errors)} of ${sum((r) => r.before + Object.values(r.inFlightAtSignal).reduce((a, b) => a + b, 0) + Object.values(r.afterSignal).reduce((a, b) => a + b, 0))} requests`,
    '',
  ].join('\n');
}

function failoverTable(r: FailoverReport): string {
  return [
    `### ${r.signal} of one of ${r.replicas} replicas behind nginx (${r.clients} keep-alive clients, ${r.handlerMs} ms per request)`,
    '',
    '| Requests | 200 | 503 SERVER_DRAINING | refused | lost |',
    '|---|---|---|---|---|',
    `| all, through nginx | ${outcomeCells(r.total)} |`,
    '',
    '| Replica port | answers before | while one was away | after it came back |',
    '|---|---|---|---|',
    ...r.served.map((s) => `| ${s.port}${s.port === r.victim.port ? ' (signalled)' : ''} | ${s.before} | ${s.away} | ${s.back} |`),
    '',
    `- signalled replica: ${r.victim.inFlightAtSignal} requests in flight at the signal` +
      (r.victim.runningAtSignal !== undefined ? ` (${r.victim.runningAtSignal} running, ${r.victim.queuedAtSignal} queued)` : '') +
      `; exit ${r.victim.exit} after ${r.victim.exitAfterMs} ms; workers left behind: ${r.victim.orphanWorkers}`,
    `- nginx's errors with the signalled replica: ${JSON.stringify(r.victim.upstreamErrors)} (refused: a connect after it stopped listening, nothing sent)`,
    `- retried by nginx on another replica, by the first answer: ${JSON.stringify(r.retried)}`,
    `- rejoin: started again in ${r.rejoin.restartMs} ms after the exit; its first answer through nginx ${r.rejoin.firstAnswerMs} ms after the exit`,
    `- client connections to nginx: ${r.connections.opened} opened, errors ${JSON.stringify(r.connections.errors)}`,
    `- lost: ${r.lost} ${JSON.stringify(r.lostDetail)}`,
    '',
  ].join('\n');
}

function throughputTable(rows: ThroughputRow[]): string {
  const setups = [...new Set(rows.map((r) => r.setup))];
  const lines = [
    `### Throughput, mnist (one digit PNG), ${rows[0]?.clients} keep-alive clients, ${rounds} rounds of ${seconds} s per setup (medians)`,
    '',
    '| Setup | req/s (min–max) | p50 ms | p99 ms | CPU ms/request: nginx | gateways | workers | client | total | cores busy: ours | others |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of setups) {
    const rs = rows.filter((r) => r.setup === s);
    const m = (f: (r: ThroughputRow) => number): number => Math.round(median(rs.map(f)) * 100) / 100;
    lines.push(
      `| ${SETUP_LABELS[s as Setup]} | ${m((r) => r.rps)} (${Math.min(...rs.map((r) => r.rps))}–${Math.max(...rs.map((r) => r.rps))}) | ${m((r) => r.p50Ms)} | ${m((r) => r.p99Ms)} | ` +
        `${m((r) => r.cpuMsPerRequest.nginx)} | ${m((r) => r.cpuMsPerRequest.gateways)} | ${m((r) => r.cpuMsPerRequest.workers)} | ${m((r) => r.cpuMsPerRequest.client)} | ${m((r) => r.cpuMsPerRequest.total)} | ` +
        `${m((r) => r.cores.ours)} | ${m((r) => r.cores.others)} |`,
    );
  }
  const one = median(rows.filter((r) => r.setup === 'nginx-1').map((r) => r.rps));
  const three = median(rows.filter((r) => r.setup === 'nginx-3').map((r) => r.rps));
  if (one > 0 && three > 0) lines.push('', `3 replicas / 1 replica behind nginx: ${(three / one).toFixed(2)}x; errors: ${rows.reduce((n, r) => n + r.errors, 0)}`);
  lines.push('');
  return lines.join('\n');
}

let fixture: Fixture | undefined;
let cluster: Cluster | undefined;
const stopAll = async (): Promise<void> => {
  await cluster?.stop();
  await fixture?.cleanup();
};
// Ctrl-C: stop the replicas and nginx before going (they drain, nginx quits gracefully).
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stopAll().finally(() => process.exit(130)));

const report: { load: { start: number; end?: number }; drain?: DrainReport; drainChurn?: DrainReport[]; sigterm?: FailoverReport; sigkill?: FailoverReport; throughput?: ThroughputRow[] } = { load: { start: loadavg()[0]! } };
try {
  fixture = await prepareFixture();
  console.log(`machine load average at start: ${report.load.start.toFixed(2)}\n`);
  if (only.has('drain')) {
    report.drain = await drainUnderLoad(fixture, { clients: 16, handlerMs: 50, loadMs: seconds * 1000 });
    console.log(drainTable(report.drain));
  }
  if (only.has('drain-churn')) {
    report.drainChurn = [];
    for (let i = 0; i < rounds; i++) report.drainChurn.push(await drainUnderLoad(fixture, { clients: 16, handlerMs: 5, loadMs: seconds * 1000, keepAlive: false }));
    console.log(churnTable(report.drainChurn));
  }
  if (only.has('sigterm') || only.has('sigkill') || only.has('throughput')) {
    const balancer = values['next-upstream'] ? { nextUpstream: values['next-upstream'] } : {};
    console.log(`nginx proxy_next_upstream ${balancer.nextUpstream ?? NEXT_UPSTREAM}\n`);
    cluster = await startCluster(fixture, { count: 3, models: [fixture.models.sleep, fixture.models.mnist], balancer });
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      if (!only.has(signal.toLowerCase())) continue;
      const r = await failover(cluster, { signal, victim: signal === 'SIGTERM' ? 1 : 2, clients, handlerMs: 20, loadMs: seconds * 1000 });
      report[signal === 'SIGTERM' ? 'sigterm' : 'sigkill'] = r;
      console.log(failoverTable(r));
    }
    if (only.has('throughput')) {
      report.throughput = await throughput(cluster, fixture, { clients: 16, windowMs: seconds * 1000, warmupMs: 1000, rounds });
      console.log(throughputTable(report.throughput));
    }
  }
  report.load.end = loadavg()[0]!;
  console.log(`machine load average at the end: ${report.load.end.toFixed(2)} (2 cores shared with other users)`);
  if (values.json) await writeFile(values.json, JSON.stringify(report, null, 2));
} finally {
  await stopAll();
}
