import { readFile } from 'node:fs/promises';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;
const BYTES_PER_KIB = 1024;

export interface ProcessStats {
  cpuSeconds: number;
  rssBytes: number;
}

/**
 * CPU time and resident memory of another process, read from /proc (Linux). undefined elsewhere or
 * when the process is gone, so callers fall back to what the worker last reported.
 */
export async function readProcessStats(pid: number): Promise<ProcessStats | undefined> {
  try {
    const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
    // The command name (field 2) may contain spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const rssKib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime) || !Number.isFinite(rssKib)) return undefined;
    return { cpuSeconds: (utime + stime) / CLOCK_TICKS_PER_SECOND, rssBytes: rssKib * BYTES_PER_KIB };
  } catch {
    return undefined;
  }
}
