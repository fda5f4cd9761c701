#!/usr/bin/env node
/**
 * `npm run bench [-- --quick | --tiny] [--only noop,mnist] [--out DIR] [--profile] [--docs]
 *   [--gateway-node-options=--max-semi-space-size=4]`, or `--report results/latest.json [--docs]` to
 * re-render a past run's tables, chart and docs section without measuring again.
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
import { renderMarkdown, ratiosTable, targetsTable } from './report/markdown.js';
import { renderProfiles, summarizeProfiles } from './report/profile-summary.js';
import { renderSvg } from './report/svg-chart.js';
import { evaluateTargets } from './report/targets.js';
import type { SuiteResult } from './results.js';
import { buildSuite, WORKLOAD_IDS, type Mode, type WorkloadId } from './suite.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    tiny: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'boolean', default: false },
    docs: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'warn' },
    'gateway-node-options': { type: 'string' },
    report: { type: 'string' },
  },
});

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
let result: SuiteResult;
if (values.report) {
  // Re-render a past run (tables, chart, docs section) without measuring again.
  const past = JSON.parse(await readFile(resolve(values.report), 'utf8')) as SuiteResult;
  result = { ...past, checks: evaluateTargets(past) };
} else {
  const suite = buildSuite(mode, only);
  const partial = await runSuite(suite, {
    logLevel: values['log-level'],
    log,
    ...(profileDir ? { profileDir } : {}),
    ...(values['gateway-node-options'] ? { gatewayNodeOptions: values['gateway-node-options'] } : {}),
  });
  result = { ...partial, checks: evaluateTargets(partial) };
}

const base = join(outDir, values.report ? `report-${stamp}-${result.mode}` : `bench-${stamp}-${mode}`);
const files: [string, string][] = [
  [`${base}.json`, `${JSON.stringify(result, null, 2)}\n`],
  [`${base}.md`, renderMarkdown(result)],
  [`${base}.svg`, renderSvg(result)],
];
for (const [file, text] of files) {
  await writeFile(file, text);
  await copyFile(file, join(outDir, `latest${file.slice(base.length)}`));
}
if (profileDir) {
  const labels = new Map(result.memory.map((m) => [m.pid, m.label]));
  await writeFile(join(profileDir, 'summary.md'), renderProfiles(await summarizeProfiles(profileDir, labels)));
  log(`profiles: ${profileDir} (summary.md)`);
}
if (values.docs) await updateDocs(join(REPO_ROOT, 'docs', 'benchmarks.md'), result);

log(`\n${targetsTable(result)}\n\n${ratiosTable(result)}\n`);
log(values.report ? `re-rendered ${values.report} into ${base}.{json,md,svg}` : `wrote ${base}.{json,md,svg} in ${result.durationS} s`);
