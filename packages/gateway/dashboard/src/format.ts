const KB = 1024;
const MB = KB * 1024;
const GB = MB * 1024;

/** Three significant digits: what one can read off a live figure. */
export function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  if (Math.abs(x) >= 10 ** digits) return Math.round(x).toString();
  return Number(x.toPrecision(digits)).toString();
}

export function ms(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `${num(x)} ms`;
}

export function bytes(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  if (x >= GB) return `${num(x / GB)} GB`;
  if (x >= MB) return `${num(x / MB)} MB`;
  return `${num(x / KB)} KB`;
}

export function percent(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `${num(x, 2)} %`;
}

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

export function clock(epochMs: number): string {
  const t = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`;
}
