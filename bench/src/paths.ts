import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from bench/dist/src/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A compiled script of the suite, by its path under src/ without extension (e.g. `loads/http-load`). */
export function script(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}
