import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The parent pid of a process (from /proc), or undefined when it is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces and parentheses; the fields after its ')' are plain.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Whether the process is stopped (SIGSTOP), from its state in /proc. */
export function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false;
  }
}

/**
 * Every worker process of one gateway, wherever it is in the process tree: a gateway names its
 * workers' sockets `ms-<gateway pid>-<n>-...`, so a worker that outlived its parent (reparented to
 * init, a leak) is found as well as a live child.
 */
export function workerProcesses(gatewayPid: number): number[] {
  const marker = `/ms-${gatewayPid}-`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes('--socket') && cmdline.includes(marker)) out.push(Number(entry));
  }
  return out.sort((a, b) => a - b);
}

/**
 * How long a bare `node -e 0` takes to start and exit here, now (median of three): the machine's
 * process-boot cost, which a worker's restart pays on top of the restart backoff. About 40 ms on an
 * idle 2-core machine; ten times that when other work saturates it.
 */
export function nodeBootMs(): number {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, ['-e', '0']);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[1]!;
}

/** CPU time (user + system) a process has used so far, in ms; /proc counts it in USER_HZ, 100 on Linux. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}
