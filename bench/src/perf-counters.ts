import { spawn, type ChildProcess } from 'node:child_process';

/** Kernel event counts of one process over a span: syscalls and context switches (from `perf stat`). */
export interface Counters {
  syscalls: number;
  contextSwitches: number;
}

/**
 * Counts syscalls and context switches of a running process with `perf stat -p` (software events and
 * one tracepoint, so it works in VMs without hardware counters). Unlike CPU time, these counts hardly
 * depend on what else the machine runs, which makes before/after comparisons of IPC changes readable.
 */
export class PerfCounter {
  private readonly proc: ChildProcess;
  private stderr = '';
  private readonly exited: Promise<void>;

  constructor(pid: number) {
    this.proc = spawn('perf', ['stat', '-x', ',', '-e', 'raw_syscalls:sys_enter,context-switches', '-p', String(pid)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      // No perf binary (or no permission): the counts come back undefined rather than crashing the probe.
      this.proc.once('error', () => resolve());
    });
  }

  async stop(): Promise<Counters | undefined> {
    this.proc.kill('SIGINT');
    await this.exited;
    const count = (event: string): number | undefined => {
      const line = this.stderr.split('\n').find((l) => l.split(',')[2] === event);
      const n = Number(line?.split(',')[0]);
      return Number.isFinite(n) ? n : undefined;
    };
    const syscalls = count('raw_syscalls:sys_enter');
    const contextSwitches = count('context-switches');
    return syscalls === undefined || contextSwitches === undefined ? undefined : { syscalls, contextSwitches };
  }
}
