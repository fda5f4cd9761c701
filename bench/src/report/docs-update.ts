import { readFile, writeFile } from 'node:fs/promises';
import type { SuiteResult } from '../results.js';
import { machineLine, ratiosTable, targetsTable } from './markdown.js';
import { repeatsTable } from './repeats.js';

export const BEGIN = '<!-- bench:latest:begin -->';
export const END = '<!-- bench:latest:end -->';

/**
 * The generated part of docs/benchmarks.md: machine, targets and ratios of the last run, and with
 * several runs, every target across them.
 */
export function latestSection(runs: readonly SuiteResult[]): string {
  const r = runs[runs.length - 1]!;
  const parts = [BEGIN];
  if (runs.length > 1) {
    const modes = [...new Set(runs.map((x) => x.mode))].map((m) => `${runs.filter((x) => x.mode === m).length} \`${m}\``).join(', ');
    parts.push(`Targets over ${runs.length} runs (${modes}; each run measures every server side by side):`, '', repeatsTable(runs), '', 'The last of them in full:', '');
  }
  parts.push(`Run of ${r.startedAt} (\`${r.mode}\`, ${r.durationS} s) on ${machineLine(r)}.`, '', targetsTable(r), '', ratiosTable(r), END);
  return parts.join('\n');
}

/** Replaces the generated section of `file` (between the markers) with these runs'. */
export async function updateDocs(file: string, runs: readonly SuiteResult[]): Promise<void> {
  const text = await readFile(file, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} has no ${BEGIN} ... ${END} section to replace`);
  await writeFile(file, text.slice(0, start) + latestSection(runs) + text.slice(end + END.length));
}
