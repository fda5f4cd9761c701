import type { ChildProcess } from 'node:child_process';

export interface WatchedChild {
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  readonly alive: boolean;
  /** Resolves with the exit code and signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Collects a child's output (spawned with piped stdout and stderr) and follows its exit. */
export function watchChild(child: ChildProcess): WatchedChild {
  let text = '';
  let alive = true;
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      alive = false;
      resolve({ code, signal });
    }),
  );
  return {
    output: () => text,
    get alive() {
      return alive;
    },
    exited,
  };
}
