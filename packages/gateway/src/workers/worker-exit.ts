import { ModelServerError } from '@model-server/protocol';

export interface ExitFacts {
  code: number | undefined;
  signal: string | undefined;
  /** The reason the gateway gave when it ended the process itself (a hung or broken worker). */
  given: string | undefined;
  /** V8 reported "JavaScript heap out of memory" on the worker's stderr before it ended. */
  outOfMemory: boolean;
}

/**
 * Why a worker's process ended, and the error its in-flight requests get. A worker that ran out of
 * JavaScript heap (V8 aborts it after saying so on stderr) is WORKER_OOM, 507 as TorchServe answers a
 * worker killed for memory. A SIGKILL the gateway did not send comes from outside: most often the
 * kernel's out-of-memory killer, which leaves no trace the gateway can read, so it is named as a
 * possibility rather than asserted.
 */
export function describeExit(facts: ExitFacts): { reason: string; error: ModelServerError } {
  if (facts.outOfMemory) {
    const reason = 'JavaScript heap out of memory; raise --max-old-space-size in worker_vmargs or lower batchSize';
    return { reason, error: new ModelServerError('WORKER_OOM', { reason }) };
  }
  let reason: string;
  if (facts.given) reason = facts.given;
  else if (facts.signal === 'SIGKILL') reason = 'killed by SIGKILL, not sent by model-server (the system out-of-memory killer, or another process)';
  else if (facts.signal) reason = `killed by ${facts.signal}`;
  else reason = `exit code ${facts.code}`;
  return { reason, error: new ModelServerError('WORKER_DIED', { reason }) };
}
