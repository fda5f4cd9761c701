import { readdirSync, readFileSync } from 'node:fs';

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

/** The live processes whose parent is `pid` (a gateway's workers, nginx's worker processes). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
  }
  return out;
}

/**
 * CPU time the whole machine has spent busy (every state but idle and iowait) and in total, summed
 * over its cores, in milliseconds: the difference of two readings shows how much of the machine the
 * processes measured did not use (other users of a shared machine).
 */
export function readMachineCpuMs(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = ticks[3]! + ticks[4]!;
  return { busy: (total - idle) * TICK_MS, total: total * TICK_MS };
}
