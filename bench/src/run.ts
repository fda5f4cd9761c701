#!/usr/bin/env node
/**
 * `npm run bench [-- --quick | --tiny] [--only noop,mnist] [--out DIR] [--profile] [--docs]
 *   [--gateway-node-options=--max-semi-space-size=4] [--repeat N] [--dashboard]`, or `--report a.json[,b.json…] [--docs]`
 * to re-render past runs' tables, chart and docs section without measuring again. With several runs
 * (--repeat, or several files) every target is also shown across the runs.
 *
 * Measures our gateway against the in-process limit, an express + onnxruntime-node server and a bare
 * node:http server, all in one invocation, and writes JSON, Markdown and SVG under results/.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runSuite } from './orchestrator.js';
import { REPO_ROOT } from './paths.js';
import { updateDocs } from './report/docs-update.js';
import { grpcTable, renderMarkdown, ratiosTable, targetsTable, transportFloorsTable } from './report/markdown.js';
import { renderProfiles, summarizeProfiles } from './report/profile-summary.js';
import { repeatsTable } from './report/repeats.js';
import { renderSvg } from './report/svg-chart.js';
import { evaluateTargets } from './report/targets.js';
import type { SuiteResult } from './results.js';
import { buildSuite, WORKLOAD_IDS, type Mode, type WorkloadId } from './suite.js';

const USAGE = `usage: npm run bench [-- --quick | --tiny] [--only ${WORKLOAD_IDS.join(',')}] [--out DIR] [--profile] [--docs]
                 [--vmargs=FLAGS] [--worker-vmargs=FLAGS] [--gateway-node-options=FLAGS] [--repeat N] [--dashboard]
       npm run bench -- --report a.json[,b.json…] [--docs]`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h', default: false },
    quick: { type: 'boolean', default: false },
    tiny: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'boolean', default: false },
    docs: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'warn' },
    'gateway-node-options': { type: 'string' },
    vmargs: { type: 'string' },
    'worker-vmargs': { type: 'string' },
    report: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    dashboard: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const mode: Mode = values.tiny ? 'tiny' : values.quick ? 'quick' : 'full';
let only: WorkloadId[] | undefined;
if (values.only) {
  only = values.only.split(',').map((s) => s.trim()) as WorkloadId[];
  const unknown = only.filter((id) => !WORKLOAD_IDS.includes(id));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown workload(s) ${unknown.join(', ')}; choose from ${WORKLOAD_IDS.join(', ')}\n`);
    process.exit(2);
  }
}
const outDir = resolve(values.out ?? join(REPO_ROOT, 'results'));
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
const profileDir = values.profile ? join(outDir, `profiles-${stamp}`) : undefined;
await mkdir(outDir, { recursive: true });
if (profileDir) await mkdir(profileDir, { recursive: true });

const log = (line: string): void => void process.stdout.write(`${line}\n`);

/** Writes one run's JSON, Markdown and SVG, and copies them to latest.*. */
async function writeRun(result: SuiteResult, base: string): Promise<void> {
  const files: [string, string][] = [
    [`${base}.json`, `${JSON.stringify(result, null, 2)}\n`],
    [`${base}.md`, renderMarkdown(result)],
    [`${base}.svg`, renderSvg(result)],
  ];
  for (const [file, text] of files) {
    await writeFile(file, text);
    await copyFile(file, join(outDir, `latest${file.slice(base.length)}`));
  }
}

const runs: SuiteResult[] = [];
if (values.report) {
  // Re-render past runs (tables, chart, docs section) without measuring again.
  for (const file of values.report.split(',')) {
    const past = JSON.parse(await readFile(resolve(file.trim()), 'utf8')) as SuiteResult;
    runs.push({ ...past, checks: evaluateTargets(past) });
  }
  await writeRun(runs[runs.length - 1]!, join(outDir, `report-${stamp}-${runs[runs.length - 1]!.mode}`));
  log(`re-rendered ${values.report}`);
} else {
  const repeat = Math.max(1, Number(values.repeat));
  for (let i = 0; i < repeat; i++) {
    if (repeat > 1) log(`### run ${i + 1} of ${repeat}`);
    const suite = buildSuite(mode, only);
    const partial = await runSuite(suite, {
      logLevel: values['log-level'],
      log,
      ...(profileDir ? { profileDir } : {}),
      ...(values['gateway-node-options'] ? { gatewayNodeOptions: values['gateway-node-options'] } : {}),
      ...(values.vmargs !== undefined ? { vmargs: values.vmargs } : {}),
      ...(values['worker-vmargs'] !== undefined ? { workerVmargs: values['worker-vmargs'] } : {}),
      dashboard: values.dashboard,
    });
    const result: SuiteResult = { ...partial, checks: evaluateTargets(partial) };
    const runStamp = new Date(result.startedAt).toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    const base = join(outDir, `bench-${runStamp}-${mode}`);
    await writeRun(result, base);
    runs.push(result);
    log(`wrote ${base}.{json,md,svg} in ${result.durationS} s`);
  }
}
const last = runs[runs.length - 1]!;
if (profileDir) {
  const labels = new Map(last.memory.map((m) => [m.pid, m.label]));
  await writeFile(join(profileDir, 'summary.md'), renderProfiles(await summarizeProfiles(profileDir, labels)));
  log(`profiles: ${profileDir} (summary.md)`);
}
if (runs.length > 1) {
  const table = repeatsTable(runs);
  await writeFile(join(outDir, `repeat-${stamp}-${last.mode}.md`), `# Targets over ${runs.length} runs\n\n${table}\n`);
  log(`\n${table}`);
}
if (values.docs) await updateDocs(join(REPO_ROOT, 'docs', 'benchmarks.md'), runs);
log(`\n${targetsTable(last)}\n\n${ratiosTable(last)}\n`);
if (last.points.some((p) => p.server === 'ours-grpc')) log(`${grpcTable(last)}\n`);
if (last.points.some((p) => p.server === 'bare-h2')) log(`${transportFloorsTable(last)}\n`);
