import { fail } from './start.js';
import { clearState, findServer, isAlive, liveStates, type ServerSelector, type ServerState } from './state-file.js';
import type { Values } from './config-lookup.js';

/** Seconds a stopping server gets to drain before it is killed. */
const STOP_GRACE_MS = 30_000;

/** `--pid` and `--ts-config` as a selector; undefined after printing the error when `--pid` is bad. */
export function selectorOf(values: Values): ServerSelector | undefined {
  const pid = values['pid'] === undefined ? undefined : Number(values['pid']);
  if (pid !== undefined && !Number.isSafeInteger(pid)) {
    fail(`--pid must be a process id, got "${String(values['pid'])}"`, 2);
    return undefined;
  }
  return { pid, configFile: values['ts-config'] as string | undefined };
}

/** What to say when no server matches: where one was looked for, and which others are running. */
export async function notRunning(selector: ServerSelector): Promise<string> {
  const where = selector.pid !== undefined ? `with pid ${selector.pid}` : selector.configFile ? `started with ${selector.configFile}` : `started in ${process.cwd()}`;
  const others = await liveStates();
  const hint = others.length === 0 ? '' : `\nrunning elsewhere: ${others.map((o: ServerState) => `pid ${o.pid} in ${o.cwd} (${o.addresses.inference})`).join('; ')} (name one with --pid or --ts-config)`;
  return `model-server is not running (no server ${where}).${hint}\n`;
}

/**
 * The server `--pid` / `--ts-config` (or this folder) names; otherwise the exit code to end with, once
 * the reason is printed (2 for a bad flag, `notFoundCode` when no such server runs).
 */
export async function selectedServer(values: Values, notFoundCode: number): Promise<ServerState | number> {
  const selector = selectorOf(values);
  if (!selector) return 2;
  const state = await findServer(selector);
  if (state) return state;
  process.stdout.write(await notRunning(selector));
  return notFoundCode;
}

export async function stop(values: Values): Promise<number> {
  const state = await selectedServer(values, 0);
  if (typeof state === 'number') return state;
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (isAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
  await clearState(state.pid, state.cwd);
  process.stdout.write(`model-server has stopped (pid ${state.pid}, ${state.cwd}).\n`);
  return 0;
}
