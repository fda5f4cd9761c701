import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the nearest folder above with the lockfile, so the path holds whether this
 * runs compiled (bench/dist/src/) or from source (bench/src/, imported by a test).
 */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package-lock.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package-lock.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = repoRoot();

/** A compiled script of the suite, by its path under src/ without extension (e.g. `loads/http-load`). */
export function script(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}
