import type { SuiteResult } from '../results.js';
import type { ServerId, WorkloadId } from '../suite.js';
import { limitFor } from './lookup.js';

const PANEL_W = 480;
const PANEL_H = 240;
const M = { left: 64, right: 16, top: 30, bottom: 40 };
const LEGEND_H = 32;
const COLORS: Record<ServerId | 'limit', string> = { ours: '#1f77b4', 'ours-grpc': '#9467bd', 'bare-grpc-js': '#8c564b', 'bare-h2': '#bcbd22', 'bare-http': '#7f7f7f', express: '#d62728', 'node-batched': '#ff7f0e', 'in-process': '#e377c2', limit: '#2ca02c' };
const NAMES: Record<ServerId | 'limit', string> = {
  ours: 'ours',
  'ours-grpc': 'ours, gRPC',
  'bare-grpc-js': 'bare grpc-js',
  'bare-h2': 'bare http2 gRPC',
  'bare-http': 'bare node:http',
  express: 'express + ORT',
  'node-batched': 'one process, batched',
  'in-process': 'OCR in one process',
  limit: 'in-process limit',
};

interface Series {
  key: ServerId;
  points: { x: number; y: number }[];
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A round upper bound (1, 2 or 5 times a power of ten) at or above `v`. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function label(v: number): string {
  if (v >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  return v >= 10 ? v.toFixed(0) : +v.toFixed(2) + '';
}

function panel(ox: number, oy: number, title: string, levels: number[], series: Series[], hline?: { y: number; text: string }): string {
  const w = PANEL_W - M.left - M.right;
  const h = PANEL_H - M.top - M.bottom;
  const lo = Math.log2(Math.min(...levels));
  const hi = Math.log2(Math.max(...levels));
  const x = (c: number): number => ox + M.left + (hi === lo ? w / 2 : ((Math.log2(c) - lo) / (hi - lo)) * w);
  const all = series.flatMap((s) => s.points.map((p) => p.y)).concat(hline ? [hline.y] : []);
  const top = niceMax(Math.max(...all, 0) * 1.05);
  const y = (v: number): number => oy + M.top + h - (v / top) * h;
  const out: string[] = [];
  out.push(`<text x="${ox + M.left}" y="${oy + 18}" font-weight="bold">${esc(title)}</text>`);
  // 1, 5 and 10 times a power of ten split into fifths, 2 into quarters: every tick is a round number.
  const lead = Math.round(top / 10 ** Math.floor(Math.log10(top)));
  const ticks = lead === 2 ? 4 : 5;
  for (let i = 0; i <= ticks; i++) {
    const v = (top * i) / ticks;
    out.push(`<line x1="${ox + M.left}" x2="${ox + M.left + w}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${ox + M.left - 6}" y="${y(v) + 4}" text-anchor="end">${label(v)}</text>`);
  }
  for (const c of levels) {
    out.push(`<text x="${x(c)}" y="${oy + M.top + h + 16}" text-anchor="middle">${c}</text>`);
  }
  out.push(`<text x="${ox + M.left + w / 2}" y="${oy + PANEL_H - 6}" text-anchor="middle" fill="#555">concurrency</text>`);
  out.push(`<rect x="${ox + M.left}" y="${oy + M.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  if (hline) {
    out.push(`<line x1="${ox + M.left}" x2="${ox + M.left + w}" y1="${y(hline.y)}" y2="${y(hline.y)}" stroke="${COLORS.limit}" stroke-dasharray="6 4" stroke-width="2"/>`);
    out.push(`<text x="${ox + M.left + w - 4}" y="${y(hline.y) - 5}" text-anchor="end" fill="${COLORS.limit}">${esc(hline.text)}</text>`);
  }
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const color = COLORS[s.key];
    if (pts.length > 1) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const p of pts) out.push(`<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3.5" fill="${color}"/>`);
  }
  return out.join('\n');
}

/** Throughput and p99 against concurrency, one row per workload, every server on the same axes. */
export function renderSvg(r: SuiteResult): string {
  const workloads = [...new Set(r.points.map((p) => p.workload))] as WorkloadId[];
  const width = PANEL_W * 2;
  const height = LEGEND_H + workloads.length * PANEL_H;
  const body: string[] = [];
  const keys: (ServerId | 'limit')[] = ['ours', 'ours-grpc', 'bare-http', 'bare-grpc-js', 'bare-h2', 'express', 'node-batched', 'in-process', 'limit'];
  keys.forEach((k, i) => {
    const lx = 16 + i * 106;
    body.push(`<rect x="${lx}" y="10" width="14" height="14" fill="${COLORS[k]}"/>`);
    body.push(`<text x="${lx + 20}" y="22">${NAMES[k]}</text>`);
  });
  workloads.forEach((w, row) => {
    const pts = r.points.filter((p) => p.workload === w);
    const levels = [...new Set(pts.map((p) => p.concurrency))].sort((a, b) => a - b);
    const servers = [...new Set(pts.map((p) => p.server))];
    const stream = w === 'stream';
    const thr: Series[] = servers.map((s) => ({
      key: s,
      points: pts.filter((p) => p.server === s).map((p) => ({ x: p.concurrency, y: stream ? p.measurement.unitsPerSec : p.measurement.throughput })),
    }));
    const p99: Series[] = servers.map((s) => ({
      key: s,
      points: pts.filter((p) => p.server === s).map((p) => ({ x: p.concurrency, y: p.measurement.latency.p99 })),
    }));
    const limit = limitFor(r, w, Math.max(...levels));
    const hline = limit ? { y: limit.measurement.unitsPerSec, text: `limit, batch ${limit.batchSize}` } : undefined;
    const oy = LEGEND_H + row * PANEL_H;
    // A VAD request is one chunk of audio.
    body.push(panel(0, oy, `${w}: ${stream || w === 'vad' ? 'chunks/s' : 'requests/s'}`, levels, thr, hline));
    body.push(panel(PANEL_W, oy, `${w}: p99 latency (ms)`, levels, p99));
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
