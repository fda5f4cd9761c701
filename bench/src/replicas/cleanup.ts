import type { ChildProcess } from 'node:child_process';

const live = new Map<ChildProcess, NodeJS.Signals>();
let hooked = false;

/**
 * Signals `child` if this process exits while it still runs, so no replica or nginx outlives a run
 * that failed or was interrupted half-way: SIGKILL for a gateway (its workers exit when their
 * connection to it closes); nginx takes SIGTERM, on which its master stops its own worker processes.
 * Returns the function that forgets it (call it once the child is gone).
 */
export function killOnExit(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): () => void {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const [c, sig] of live) c.kill(sig);
    });
  }
  live.set(child, signal);
  return () => live.delete(child);
}
