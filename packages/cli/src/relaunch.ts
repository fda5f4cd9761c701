import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { runsWith } from '@model-server/gateway/launch';

/** Set in the relaunched process, so that no flag node might not echo in `execArgv` can cause a loop. */
const RELAUNCHED_ENV = 'MODEL_SERVER_RELAUNCHED';
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Whether this process lacks some of `nodeArgs` and must start node again to get them. */
export function needsRelaunch(nodeArgs: readonly string[]): boolean {
  return nodeArgs.length > 0 && process.env[RELAUNCHED_ENV] === undefined && !runsWith(nodeArgs);
}

/**
 * Runs this same command again in a node started with `nodeArgs` (V8 sizes its heap when the process
 * starts; these flags cannot be set later), sharing the terminal, passing on the signals that stop the
 * server, and resolves with the child's exit code (128 + signal number if a signal ended it), as
 * TorchServe's launcher starts its frontend with `vmargs`.
 */
export function relaunch(nodeArgs: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...nodeArgs, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [RELAUNCHED_ENV]: '1' },
  });
  for (const signal of FORWARDED_SIGNALS) process.on(signal, () => child.kill(signal));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}
