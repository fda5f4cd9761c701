import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { SoakReport } from '../bench/src/soak/soak-report.js';
import { ROOT, tempDir } from './helpers/models.js';

const run = promisify(execFile);

/**
 * The soak script's short mode (`npm run soak -- --seconds 20`), end to end: a real server process
 * under the mixed load must answer every request with 200, keep its workers, and exit cleanly.
 * Drift figures are only reported here (20 s is warm-up as much as soak; docs/reliability.md has the
 * long runs).
 */
describe('soak, short mode', () => {
  it('runs 20 s of mixed load with no error, no worker restart, and reports drift', { timeout: 120_000 }, async () => {
    const out = await tempDir('ms-soak-test-');
    const json = join(out, 'report.json');
    const { stdout } = await run(process.execPath, [join(ROOT, 'bench', 'dist', 'src', 'soak.js'), '--seconds', '20', '--out', out, '--json', json], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const report = JSON.parse(await readFile(json, 'utf8')) as SoakReport;
    expect(report.errorCount, JSON.stringify(report.errors)).toBe(0);
    expect(report.workerRestarts).toBe(0);
    expect(report.serverAlive).toBe(true);
    expect(report.requests).toBeGreaterThan(1000);
    expect(report.windows.length).toBeGreaterThanOrEqual(8);
    for (const w of report.windows) {
      expect(w.gatewayRss).toBeGreaterThan(0);
      expect(Object.values(w.workerRss).every((rss) => rss > 0)).toBe(true);
    }
    expect(Object.keys(report.workerRss).sort()).toEqual(['mnist', 'noop']);
    expect(Number.isFinite(report.p99.ratio) && Number.isFinite(report.gatewayRss.perMinute)).toBe(true);
    expect(stdout).toContain('| p99 latency |');
    expect(await readFile(join(out, 'soak-latest.md'), 'utf8')).toBe(stdout);
    process.stderr.write(`[reliability] soak 20 s: ${report.requests} requests, ${Math.round(report.throughput)} req/s, 0 errors; p99 ${report.p99.start.toFixed(1)} -> ${report.p99.end.toFixed(1)} ms; gateway RSS ${(report.gatewayRss.start / 2 ** 20).toFixed(1)} -> ${(report.gatewayRss.end / 2 ** 20).toFixed(1)} MB\n`);
  });
});
