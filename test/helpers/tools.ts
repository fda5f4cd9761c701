import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Path of a command-line tool a test runs: PATH first, then /usr/bin. Throws with `installHint` when it
 * is missing, so the test fails saying what to install instead of skipping.
 */
export function findTool(name: string, installHint: string): string {
  for (const d of [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin']) if (d && existsSync(join(d, name))) return join(d, name);
  throw new Error(`${name} not found on PATH or in /usr/bin: ${installHint}`);
}
