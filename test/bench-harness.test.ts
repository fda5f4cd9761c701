import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { SuiteResult } from '../bench/src/results.js';
import { percentile, spread } from '../bench/src/stats.js';
import { buildSuite } from '../bench/src/suite.js';
import { WindowRecorder } from '../bench/src/windows.js';
import { ROOT, tempDir } from './helpers/models.js';

const run = promisify(execFile);

// The suite's own figures are not checked here (this machine is shared and noisy); only that the
// harness still runs end to end and writes every output with the expected shape.
describe('bench harness', () => {
  it('builds every mode of the suite with each baseline on a workload it can serve', () => {
    for (const mode of ['tiny', 'quick', 'full'] as const) expect(buildSuite(mode).workloads.length).toBe(7);
  });

  it('serves mnist with the batching settings the example ships with', async () => {
    const shipped = parseYaml(await readFile(join(ROOT, 'examples', 'mnist', 'model-config.yaml'), 'utf8')) as Record<string, unknown>;
    const { batchSize, maxBatchDelay } = buildSuite('full').models.mnist;
    expect({ batchSize, maxBatchDelay }).toEqual({ batchSize: shipped['batchSize'], maxBatchDelay: shipped['maxBatchDelay'] });
  });

  it('runs the tiny suite end to end and writes JSON, Markdown and SVG', { timeout: 300_000 }, async () => {
    const out = await tempDir('ms-bench-test-');
    const { stdout } = await run(process.execPath, [join(ROOT, 'bench', 'dist', 'src', 'run.js'), '--tiny', '--out', out], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout).toContain('| Target | Goal | Measured | Result |');

    const result = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as SuiteResult;
    expect(result.mode).toBe('tiny');
    const seen = new Set(result.points.map((p) => `${p.workload}/${p.server}`));
    expect([...seen].sort()).toEqual([
      'heavy/node-batched',
      'heavy/ours',
      'mnist-tensor/ours',
      'mnist-tensor/ours-grpc',
      'mnist/express',
      'mnist/ours',
      'noop/bare-http',
      'noop/ours',
      'noop/ours-grpc',
      'ocr/in-process',
      'ocr/ours',
      'stream/bare-http',
      'stream/ours',
      'vad/ours',
    ]);
    for (const p of result.points) {
      expect(p.measurement.windows.length).toBeGreaterThan(0);
      expect(p.measurement.errors).toBe(0);
      expect(p.measurement.completed).toBeGreaterThan(0);
    }
    expect(result.points.find((p) => p.workload === 'stream')?.measurement.ttfc).toBeDefined();
    expect(result.limits.map((l) => `${l.workload}/${l.variant}`).sort()).toEqual(['heavy/model', 'mnist/decode+model', 'vad/handler']);
    expect(result.memory.filter((m) => m.role === 'gateway')).toHaveLength(1);
    expect(result.memory.filter((m) => m.role === 'worker').map((m) => m.label.split(' ')[1]).sort()).toEqual(['heavy', 'mnist', 'mnist-tensor', 'noop', 'ocr__crop', 'ocr__det', 'ocr__rec', 'stream', 'vad']);
    // The OCR workflow's nodes each report their mean batch.
    expect(Object.keys(result.points.find((p) => p.workload === 'ocr' && p.server === 'ours')?.nodeBatchSizes ?? {}).sort()).toEqual(['crop', 'det', 'rec']);
    expect(result.checks.map((c) => c.id)).toEqual(
      expect.arrayContaining(['noop-c1-p50', 'noop-c32-throughput', 'mnist-c64-throughput', 'mnist-c64-p99', 'heavy-c64-vs-limit', 'grpc-noop-c32-cpu', 'vad-realtime', 'ocr-c1-p50', 'ocr-c8-throughput', 'gateway-rss']),
    );

    const markdown = await readFile(join(out, 'latest.md'), 'utf8');
    expect(markdown).toContain('## Ratios (ours / baseline, same run)');
    expect(markdown).toContain('## gRPC against HTTP (our gateway, same run)');
    const svg = await readFile(join(out, 'latest.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  });

  it('reports nearest-rank percentiles and max/min spread', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(values, 50), percentile(values, 90), percentile(values, 99)]).toEqual([50, 90, 99]);
    expect(percentile(new Float64Array(0), 50)).toBe(0);
    expect(spread([100, 110])).toBeCloseTo(1.1);
    expect(spread([0, 1])).toBe(Infinity);
  });

  it('stops at the first stable windows and reports them merged', async () => {
    const recorder = new WindowRecorder({ warmupMs: 5, windowMs: 20, stableWindows: 2, maxWindows: 50, stabilityPct: 1000 });
    recorder.start();
    const feed = setInterval(() => recorder.record(1), 1);
    const m = await recorder.done;
    clearInterval(feed);
    expect(m.stable).toBe(true);
    expect(m.windows).toHaveLength(2);
    expect(m.latency.p50).toBe(1);
    expect(recorder.stopped).toBe(true);
  });

  it('gives up after maxWindows and says the figures are unstable', async () => {
    const recorder = new WindowRecorder({ warmupMs: 0, windowMs: 10, stableWindows: 2, maxWindows: 3, stabilityPct: 10 });
    recorder.start();
    // No samples at all: throughput 0 in every window, which the max/min rule can never call stable.
    const m = await recorder.done;
    expect(m.stable).toBe(false);
    expect(m.windows).toHaveLength(3);
    expect(m.completed).toBe(0);
  });
});
