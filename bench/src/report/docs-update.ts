import { readFile, writeFile } from 'node:fs/promises';
import type { SuiteResult } from '../results.js';
import { machineLine, ratiosTable, targetsTable } from './markdown.js';

export const BEGIN = '<!-- bench:latest:begin -->';
export const END = '<!-- bench:latest:end -->';

/** The generated part of docs/benchmarks.md: machine, targets and ratios of one run. */
export function latestSection(r: SuiteResult): string {
  return [
    BEGIN,
    `Run of ${r.startedAt} (\`${r.mode}\`, ${r.durationS} s) on ${machineLine(r)}.`,
    '',
    targetsTable(r),
    '',
    ratiosTable(r),
    END,
  ].join('\n');
}

/** Replaces the generated section of `file` (between the markers) with this run's. */
export async function updateDocs(file: string, r: SuiteResult): Promise<void> {
  const text = await readFile(file, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} has no ${BEGIN} ... ${END} section to replace`);
  await writeFile(file, text.slice(0, start) + latestSection(r) + text.slice(end + END.length));
}
