import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { StatusSummary } from '@model-server/gateway';
import type { ServerState } from './state-file.js';
import { renderStatus } from './status-table.js';

export const STATUS_USAGE = 'model-server status [--watch] [--interval SECONDS]';

const REQUEST_TIMEOUT_MS = 5_000;
/** Clears a terminal and puts the cursor home, so --watch redraws in place. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

/**
 * The management key: `MODEL_SERVER_MANAGEMENT_KEY` (the variable a container gives the server), else
 * the key file the running server wrote (named in its state file). undefined when neither is there,
 * which is right for a server without token authorization.
 */
async function managementKey(state: ServerState): Promise<string | undefined> {
  const fromEnv = process.env['MODEL_SERVER_MANAGEMENT_KEY'];
  if (fromEnv) return fromEnv;
  if (!state.keyFile) return undefined;
  try {
    const keys = JSON.parse(await readFile(state.keyFile, 'utf8')) as { management?: { key?: string } };
    return keys.management?.key;
  } catch {
    return undefined;
  }
}

async function fetchSummary(state: ServerState): Promise<StatusSummary> {
  const key = await managementKey(state);
  const res = await fetch(`${state.addresses.management}/status?series=false`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (res.status === 401) {
    throw new Error('the management API refused the key: set MODEL_SERVER_MANAGEMENT_KEY, or run as the user whose server wrote the key file');
  }
  if (!res.ok) throw new Error(`GET /status answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as StatusSummary;
}

/**
 * The summary part of `model-server status`: the table once, or with `--watch` redrawn every
 * `--interval` seconds (default 1) until interrupted (the JSON itself: `GET /status` on the management port).
 * Returns the exit code: `okCode` when the summary could be read, 1 otherwise.
 */
export async function showStatus(state: ServerState, args: readonly string[], okCode: number): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { watch: { type: 'boolean', short: 'w', default: false }, interval: { type: 'string', default: '1' } },
    }));
  } catch (err) {
    process.stderr.write(`model-server: ${(err as Error).message}\nusage: ${STATUS_USAGE}\n`);
    return 2;
  }
  const intervalMs = Number(values.interval) * 1000;
  if (!(intervalMs >= 100)) {
    process.stderr.write(`model-server: --interval must be a number of seconds >= 0.1 (got "${values.interval}")\n`);
    return 2;
  }
  try {
    if (!values.watch) {
      process.stdout.write(renderStatus(await fetchSummary(state)));
      return okCode;
    }
    let stopped = false;
    let wake: (() => void) | undefined;
    const stop = (): void => {
      stopped = true;
      wake?.();
    };
    process.once('SIGINT', stop);
    // `status --watch | head`: the reader went away, which ends the watch like Ctrl-C.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') stop();
    });
    while (!stopped) {
      const summary = await fetchSummary(state);
      if (stopped) break;
      const text = renderStatus(summary);
      // On a terminal the table is redrawn in place; piped, each refresh follows the last.
      process.stdout.write(process.stdout.isTTY ? `${CLEAR_SCREEN}${text}` : `${text}\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return 0;
  } catch (err) {
    process.stderr.write(`model-server: cannot read the status summary: ${(err as Error).message}\n`);
    return 1;
  }
}
