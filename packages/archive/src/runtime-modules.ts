import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The node_modules folder this installation takes its packages from: the nearest one above the worker
 * package holding `@model-server/sdk`, as Node's own lookup from here finds it. Realpath, or undefined.
 */
export function runtimeNodeModules(): string | undefined {
  return nodeModulesAbove(dirname(fileURLToPath(import.meta.url)));
}

function nodeModulesAbove(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules');
    if (existsSync(join(candidate, '@model-server', 'sdk'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Whether a handler in `dir` importing `@model-server/sdk` (or onnxruntime-node, or any package this
 * installation provides) gets this installation's copy through Node's ordinary lookup, with no
 * resolution hooks.
 */
export function resolvesToRuntime(dir: string): boolean {
  const runtime = runtimeNodeModules();
  return runtime !== undefined && nodeModulesAbove(dir) === runtime;
}

/**
 * The folder under `base` where this installation unpacks archives, with a `node_modules` link to the
 * installation's packages beside the unpacked models, so their handlers resolve the SDK without the
 * resolution hooks' thread (11 MB per worker on Node 20). One folder per installation: servers from
 * two installations sharing `base` must not hand each other's handlers the wrong SDK. Where the link
 * cannot be made, workers fall back to the hooks.
 */
export async function runtimeWorkDir(base: string): Promise<string> {
  const runtime = runtimeNodeModules();
  if (runtime === undefined) return base;
  const dir = join(base, createHash('sha256').update(runtime).digest('hex').slice(0, 12));
  await mkdir(dir, { recursive: true });
  try {
    await symlink(runtime, join(dir, 'node_modules'), 'dir');
  } catch {
    // Made already (by another server of this installation), or not allowed here: both are fine.
  }
  return dir;
}
