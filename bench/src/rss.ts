import { readFileSync } from 'node:fs';

/**
 * Resident memory of a live process, in bytes, from /proc: VmRSS now, VmHWM (its peak so far), and
 * RssAnon, the private part (VmRSS also counts file-backed pages such as the node binary's and
 * onnxruntime's code, which every process mapping them shares).
 */
export function readRss(pid: number): { rss: number; peak: number; anon: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM'), anon: kb('RssAnon') };
}

export interface RssRecord {
  label: string;
  pid: number;
  /** Largest VmRSS sampled during the runs. */
  maxSampled: number;
  /** VmHWM at the last sample: the kernel's own peak, which no sampling interval can miss. */
  peak: number;
  /** Largest RssAnon sampled: private memory, without the shared code pages. */
  maxAnon: number;
}

/** Samples the RSS of a changing set of processes (workers may be replaced) every `intervalMs`. */
export class RssSampler {
  private readonly records = new Map<number, RssRecord>();
  private readonly watched = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 250) {}

  watch(pid: number, label: string): void {
    this.watched.set(pid, label);
    this.sample();
  }

  start(): void {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): RssRecord[] {
    this.sample();
    clearInterval(this.timer);
    return [...this.records.values()];
  }

  sample(): void {
    for (const [pid, label] of this.watched) {
      const now = readRss(pid);
      if (!now) continue;
      const record = this.records.get(pid) ?? { label, pid, maxSampled: 0, peak: 0, maxAnon: 0 };
      record.maxSampled = Math.max(record.maxSampled, now.rss);
      record.maxAnon = Math.max(record.maxAnon, now.anon);
      record.peak = Math.max(record.peak, now.peak);
      this.records.set(pid, record);
    }
  }
}
