import type { SuiteResult } from '../results.js';
import { median } from '../stats.js';

function figure(id: string, v: number): string {
  if (id === 'noop-c1-p50') return `${v >= 0 ? '+' : ''}${v.toFixed(2)} ms`;
  if (id.includes('-rss')) return `${v.toFixed(0)} MB`;
  return `${v.toFixed(3)}x`;
}

/**
 * Every target over several runs of the suite: each run is its own side-by-side measurement, and the
 * spread between runs shows how much the machine's noise moves a ratio.
 */
export function repeatsTable(runs: readonly SuiteResult[]): string {
  const ids: string[] = [];
  for (const r of runs) for (const c of r.checks) if (!ids.includes(c.id)) ids.push(c.id);
  const rows = ids.map((id) => {
    const checks = runs.map((r) => r.checks.find((c) => c.id === id)).filter((c) => c !== undefined && c.value !== null);
    const values = checks.map((c) => c!.value!);
    const met = checks.filter((c) => c!.pass).length;
    const first = checks[0];
    if (!first) return [id, '', 'not measured', '', ''];
    return [
      first.target,
      first.goal,
      values.map((v) => figure(id, v)).join(', '),
      figure(id, median(values)),
      `${met} of ${values.length}`,
    ];
  });
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(['Target', 'Goal', 'Each run', 'Median', 'Met']), line(['---', '---', '---', '---', '---']), ...rows.map(line)].join('\n');
}
