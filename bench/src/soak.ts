/**
 * The soak: a real server process (`model-server start --foreground`, no-op and mnist models) under
 * closed-loop load for a while, reporting errors, p99 latency drift and the resident-memory drift of
 * the gateway and of every worker.
 *
 *   npm run soak -- --minutes 5            # the figures in docs/reliability.md
 *   npm run soak -- --seconds 20           # the short mode test/soak.test.ts runs
 *   options: --concurrency N (16), --window S (seconds per window; default: the run / 30, at least 2),
 *            --out DIR (results), --json FILE (also write the report there)
 *
 * Writes results/soak-<time>.{json,md} and results/soak-latest.{json,md}; exits 1 when any request
 * failed, a worker was replaced or the server died.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { currentLoad, describeMachine } from './machine.js';
import { REPO_ROOT } from './paths.js';
import { readRss } from './rss.js';
import { SoakLoad, soakRequests } from './soak/soak-load.js';
import { drift, renderSoak, windowOf, type SoakReport, type SoakWindow } from './soak/soak-report.js';
import { startSoakServer, workerPids } from './soak/soak-server.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    window: { type: 'string' },
    out: { type: 'string', default: join(REPO_ROOT, 'results') },
    json: { type: 'string' },
  },
});
const seconds = values.seconds !== undefined ? Number(values.seconds) : Number(values.minutes ?? 1) * 60;
const concurrency = Number(values.concurrency);
const windowSeconds = values.window !== undefined ? Number(values.window) : Math.max(2, seconds / 30);
if (!(seconds > 0) || !(concurrency > 0) || !(windowSeconds > 0)) {
  process.stderr.write('usage: soak [--minutes N | --seconds N] [--concurrency N] [--window S] [--out DIR] [--json FILE]\n');
  process.exit(2);
}

const startedAt = new Date().toISOString();
const machine = describeMachine();
const server = await startSoakServer();
const pidsAtStart = await workerPids(server);
process.stderr.write(`soak: ${seconds} s against ${server.url} (gateway ${server.pid}, workers ${JSON.stringify(pidsAtStart)}), windows of ${windowSeconds} s\n`);
const load = new SoakLoad(server.url, await soakRequests(), concurrency);
const windows: SoakWindow[] = [];
const errors: Record<string, number> = {};
let requests = 0;
const deadline = performance.now() + seconds * 1000;
while (performance.now() < deadline && server.alive) {
  await new Promise((resolve) => setTimeout(resolve, Math.min(windowSeconds * 1000, deadline - performance.now())));
  const stats = load.takeWindow();
  const workerRss: Record<string, number> = {};
  for (const [model, pids] of Object.entries(pidsAtStart)) workerRss[model] = pids.reduce((sum, pid) => sum + (readRss(pid)?.rss ?? 0), 0);
  const w = windowOf(stats, windowSeconds, readRss(server.pid)?.rss ?? 0, workerRss);
  windows.push(w);
  requests += stats.requests;
  for (const [k, v] of Object.entries(stats.errors)) errors[k] = (errors[k] ?? 0) + v;
  process.stderr.write(`soak: t=${w.t.toFixed(0)} s ${Math.round(w.throughput)} req/s p99 ${w.p99.toFixed(1)} ms errors ${w.errors} gateway ${(w.gatewayRss / 2 ** 20).toFixed(1)} MB\n`);
}
await load.stop();
const serverAlive = server.alive;
const pidsAtEnd = serverAlive ? await workerPids(server) : {};
const workerRestarts = Object.entries(pidsAtStart).reduce((n, [m, pids]) => n + pids.filter((p) => !(pidsAtEnd[m] ?? []).includes(p)).length, 0);
const exit = await server.stop();
machine.loadAverage.end = currentLoad();
const elapsed = windows.at(-1)?.t ?? 0;
const report: SoakReport = {
  startedAt,
  machine,
  seconds: elapsed,
  concurrency,
  requests,
  throughput: requests / Math.max(elapsed, 1e-9),
  errors,
  errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
  workerRestarts,
  serverAlive,
  p99: drift(windows, (w) => w.p99),
  gatewayRss: drift(windows, (w) => w.gatewayRss),
  workerRss: Object.fromEntries(Object.keys(pidsAtStart).map((m) => [m, drift(windows, (w) => w.workerRss[m] ?? 0)])),
  windows,
};
const markdown = renderSoak(report);
process.stdout.write(markdown);
await mkdir(values.out, { recursive: true });
const stamp = startedAt.replace(/[:.]/g, '-');
for (const name of [`soak-${stamp}`, 'soak-latest']) {
  await writeFile(join(values.out, `${name}.json`), JSON.stringify(report, null, 2));
  await writeFile(join(values.out, `${name}.md`), markdown);
}
if (values.json) await writeFile(values.json, JSON.stringify(report, null, 2));
const failed = report.errorCount > 0 || workerRestarts > 0 || !serverAlive || exit.code !== 0;
if (failed) process.stderr.write(`soak FAILED (exit of the server: ${JSON.stringify(exit)}); the server's last output:\n${server.tail()}\n`);
process.exit(failed ? 1 : 0);
