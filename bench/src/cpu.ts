import { readFileSync } from 'node:fs';

/** Linux reports process times in clock ticks; USER_HZ is 100 on every mainstream kernel config. */
const TICK_MS = 10;

/** CPU time (user + system) a live process has used so far, in milliseconds; undefined once it is gone. */
export function readCpuMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** CPU used by a set of processes between `start()` and `stop()`, per process label. */
export class CpuMeter {
  private readonly before = new Map<string, { pid: number; ms: number }>();

  start(processes: Record<string, number>): void {
    this.before.clear();
    for (const [label, pid] of Object.entries(processes)) {
      const ms = readCpuMs(pid);
      if (ms !== undefined) this.before.set(label, { pid, ms });
    }
  }

  stop(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [label, { pid, ms }] of this.before) {
      const now = readCpuMs(pid);
      if (now !== undefined) out[label] = now - ms;
    }
    return out;
  }
}
