// Builds a package of this checkout on first use of its command. The commands' bin files are committed
// (npm links a workspace bin at install only if the file exists then, and dist/ does not exist before
// the first build), so `npx model-server` right after `npm install` runs this checkout's code, never a
// package of that name from the registry; this builds what it runs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Ensures `<root>/<pkg>/dist/main.js` exists, building the package (and what it references) if needed. */
export function ensureBuilt(pkg, command) {
  const main = join(root, pkg, 'dist', 'main.js');
  if (existsSync(main)) return main;
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    process.stderr.write(`${command}: ${pkg}/dist is missing and TypeScript is not installed: run "npm install && npm run build" in ${root}\n`);
    process.exit(1);
  }
  process.stderr.write(`${command}: first run in this checkout: building ${pkg} (tsc -b; "npm run build" also builds the example models)...\n`);
  const built = spawnSync(process.execPath, [tsc, '-b', join(root, pkg)], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0 || !existsSync(main)) {
    process.stderr.write(`${command}: the build failed; run "npm run build" in ${root} and look at its errors\n`);
    process.exit(1);
  }
  return main;
}

/** Runs `<pkg>/dist/main.js` as the command `command`, building it first on a fresh checkout. */
export async function runCommand(pkg, command) {
  await import(pathToFileURL(ensureBuilt(pkg, command)).href);
}
