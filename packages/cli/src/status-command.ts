import type { StatusSummary } from '@model-server/gateway';
import type { ServerState } from './state-file.js';
import { managementGet } from './status.js';
import { renderStatus } from './status-table.js';

/** Clears a terminal and puts the cursor home, so --watch redraws in place. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

/** The live summary (`GET /status` on the management port). */
function fetchSummary(state: ServerState): Promise<StatusSummary> {
  return managementGet<StatusSummary>(state, '/status?series=false');
}

export interface StatusOptions {
  watch: boolean;
  /** Seconds between refreshes with `watch`. */
  interval: number;
}

/** `--watch` and `--interval` as given to `model-server status`; a bad interval is a usage error. */
export function statusOptions(values: Record<string, string | string[] | boolean>): StatusOptions | string {
  const interval = values['interval'] === undefined ? 1 : Number(values['interval']);
  if (!(interval >= 0.1)) return `--interval must be a number of seconds >= 0.1 (got "${String(values['interval'])}")`;
  return { watch: values['watch'] === true, interval };
}

/**
 * The summary table of `model-server status` (models, versions, workers, queue, rps, p99), once, or with
 * `watch` redrawn every `interval` seconds until interrupted. Returns the exit code: `okCode` when the
 * summary could be read, 1 otherwise (0 when a watch ends).
 */
export async function showStatus(state: ServerState, options: StatusOptions, okCode: number): Promise<number> {
  try {
    if (!options.watch) {
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
        const timer = setTimeout(resolve, options.interval * 1000);
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
