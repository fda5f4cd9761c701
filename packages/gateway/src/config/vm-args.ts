import type { ServerConfig } from './server-config.js';

/**
 * Under load V8 grows its young generation to 2 x 16 MB and lets the old generation reach 4x what
 * survived the last full GC before collecting again. The gateway's garbage lives for one request
 * and its live heap is ~20 MB, so both limits only hold garbage: with these it peaked at ~110 MB
 * instead of ~195 MB in the benchmark, with no throughput cost we could measure (docs/benchmarks.md).
 * A worker's garbage lives for one batch. Overridden by `vmargs` / `worker_vmargs`.
 */
export const DEFAULT_GATEWAY_VMARGS = '--max-semi-space-size=4 --heap-growing-percent=50';
export const DEFAULT_WORKER_VMARGS = '--max-semi-space-size=2';

/**
 * Environment a worker starts with unless the gateway's own environment sets the variable:
 * - glibc gives every thread that allocates (ONNX Runtime's, libuv's) an arena of its own, each
 *   keeping freed memory resident; two arenas serve a worker's few threads as fast.
 * - glibc's mmap threshold starts at 128 KB and rises to the size of each large block freed, so once
 *   ONNX Runtime frees the model file's bytes after building its weights, later multi-megabyte blocks
 *   land in the heap, where freed space stays resident. A fixed 1 MB keeps blocks that large in their
 *   own mappings, returned on free: the heavy benchmark worker peaked 6 MB lower (111.5 -> 105.0 MB).
 *   Smaller blocks (a batch frame under 1 MB) still come from the heap, without a syscall each.
 */
export const WORKER_ENV_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: String(1024 * 1024),
});

/** A node flag: `--name` or `--name=value`; anything else (a script, a bare word) is refused. */
export const NODE_FLAG = /^--[A-Za-z0-9][\w-]*(=\S+)?$/;

/** Splits a `vmargs` value on whitespace, as a shell would split unquoted flags. */
export function splitVmArgs(value: string): string[] {
  return value.split(/\s+/).filter((token) => token !== '');
}

/** How a worker process is launched: node flags before the entry script, environment on top of the gateway's. */
export interface WorkerLaunch {
  readonly nodeArgs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The flags the gateway process must run with. One source for every launcher: `model-server start`
 * (which re-launches node with them when missing) and the benchmark's gateway process.
 */
export function gatewayNodeArgs(config: ServerConfig): readonly string[] {
  return splitVmArgs(config.vmargs);
}

/** Whether this process already runs with every flag in `nodeArgs` (given on its command line). */
export function runsWith(nodeArgs: readonly string[], execArgv: readonly string[] = process.execArgv): boolean {
  return nodeArgs.every((arg) => execArgv.includes(arg));
}

export function workerLaunch(config: ServerConfig, env: NodeJS.ProcessEnv = process.env): WorkerLaunch {
  const defaults = Object.entries(WORKER_ENV_DEFAULTS).filter(([key]) => env[key] === undefined);
  return Object.freeze({ nodeArgs: Object.freeze(splitVmArgs(config.worker_vmargs)), env: Object.freeze(Object.fromEntries(defaults)) });
}
