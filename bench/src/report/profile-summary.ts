import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The parts of a V8 .cpuprofile (what `node --cpu-prof` writes) the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  pid: number;
  label: string;
  totalMs: number;
  /** Self time by function, largest first. */
  functions: { name: string; where: string; selfMs: number; share: number }[];
  /** Self time by origin: our packages, a node_modules package, node internals, GC, idle. */
  origins: { origin: string; selfMs: number; share: number }[];
}

function origin(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
  if (url === '') return '(native)';
  const pkg = /\/packages\/([^/]+)\//.exec(url) ?? /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
}

function summarize(file: string, profile: CpuProfile, label: string, pid: number, top: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { name: string; where: string; ms: number }>();
  const origins = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    total += ms;
    const where = frame.url ? `${frame.url.replace(/^file:\/\//, '').split('/').slice(-3).join('/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}@${where}`;
    const entry = self.get(key) ?? { name: frame.functionName || '(anonymous)', where, ms: 0 };
    entry.ms += ms;
    self.set(key, entry);
    const o = origin(frame.url, frame.functionName);
    origins.set(o, (origins.get(o) ?? 0) + ms);
  });
  const busy = total - (origins.get('(idle)') ?? 0);
  return {
    file,
    pid,
    label,
    totalMs: total,
    functions: [...self.values()]
      .filter((e) => e.name !== '(idle)')
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, selfMs: e.ms, share: busy > 0 ? e.ms / busy : 0 })),
    origins: [...origins]
      .filter(([o]) => o !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .map(([o, ms]) => ({ origin: o, selfMs: ms, share: busy > 0 ? ms / busy : 0 })),
  };
}

/** Summaries of every profile in `dir`; `labels` names processes by pid (gateway, worker …). */
export async function summarizeProfiles(dir: string, labels: Map<number, string>, top = 25): Promise<ProfileSummary[]> {
  const out: ProfileSummary[] = [];
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    const pid = Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(name)?.[1] ?? 0);
    const profile = JSON.parse(await readFile(join(dir, name), 'utf8')) as CpuProfile;
    out.push(summarize(name, profile, labels.get(pid) ?? `pid ${pid}`, pid, top));
  }
  return out;
}

export function renderProfiles(summaries: readonly ProfileSummary[]): string {
  const parts: string[] = ['# CPU profiles (self time, idle excluded)', ''];
  for (const s of summaries) {
    parts.push(`## ${s.label} (${s.file})`, '', '| Origin | Self ms | Share |', '| --- | --- | --- |');
    for (const o of s.origins.slice(0, 12)) parts.push(`| ${o.origin} | ${o.selfMs.toFixed(0)} | ${(o.share * 100).toFixed(1)}% |`);
    parts.push('', '| Function | Where | Self ms | Share |', '| --- | --- | --- | --- |');
    for (const f of s.functions) parts.push(`| ${f.name} | ${f.where} | ${f.selfMs.toFixed(0)} | ${(f.share * 100).toFixed(1)}% |`);
    parts.push('');
  }
  return parts.join('\n');
}
