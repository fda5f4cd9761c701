import { findTool } from './tools.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition into samples (enough for tests: no escapes inside label values). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Samples of `name` whose labels include `labels`. */
export function samples(text: string, name: string, labels: Record<string, string> = {}): Sample[] {
  return parseSamples(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample of `name` matching `labels`; fails when there is none or several. */
export function value(text: string, name: string, labels: Record<string, string> = {}): number {
  const found = samples(text, name, labels);
  if (found.length !== 1) throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}

/** Names of the metric families (`# TYPE` lines) of an exposition. */
export function families(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
}

/**
 * Path of a Prometheus tool (Debian's `prometheus` package installs prometheus and promtool): PATH
 * first, then /usr/bin. Throws with the install command when it is missing, so the test fails clearly.
 */
export function prometheusTool(name: 'prometheus' | 'promtool'): string {
  return findTool(name, 'install it with "apt-get install -y prometheus"');
}
