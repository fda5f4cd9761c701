import type { VersionSeries, VersionSummary, WorkerSummary } from '../../src/status/summary-types.js';
import { BarChart, LineChart } from './charts.js';
import { field, h, setText } from './dom.js';
import { bytes, clock, ms, num, percent } from './format.js';

export type ActionKind = 'scale' | 'default' | 'unregister';

export interface ViewContext {
  model: string;
  modelApiEnabled: boolean;
  /** Versions of this model: the default one cannot be unregistered while others exist. */
  versionCount: number;
  act(kind: ActionKind, model: string, version: VersionSummary): void;
}

const STATS: [string, string][] = [
  ['workers', 'workers live / target'],
  ['queue', 'queue / limit'],
  ['inflight', 'in flight'],
  ['rps', 'req/s'],
  ['p50', 'p50'],
  ['p99', 'p99'],
  ['batch', 'mean batch'],
  ['requests', 'requests'],
  ['errors', 'errors'],
  ['restarts', 'restarts'],
];

const CHART_GAP_PX = 12;
const MIN_CHART_WIDTH_PX = 220;
const CHARTS_PER_ROW = 4;

/** Appends the newest point(s) of a tick to a kept series, keeping at most `limit` points. */
export function appendSeries(kept: VersionSeries, tick: VersionSeries, limit: number): void {
  const lastT = kept.t[kept.t.length - 1] ?? -Infinity;
  for (let i = 0; i < tick.t.length; i++) {
    if (tick.t[i]! <= lastT) continue;
    for (const key of Object.keys(kept) as (keyof VersionSeries)[]) (kept[key] as (number | null)[]).push(tick[key][i]!);
  }
  const excess = kept.t.length - limit;
  if (excess > 0) for (const key of Object.keys(kept) as (keyof VersionSeries)[]) kept[key].splice(0, excess);
}

/** One version's block of the page: figures, charts, workers and error codes, updated in place each second. */
export class VersionView {
  readonly root: HTMLElement;
  private readonly stats: HTMLElement;
  private readonly charts: HTMLElement;
  private readonly workerRows: HTMLTableSectionElement;
  private readonly codeRows: HTMLTableSectionElement;
  private readonly buttons: Record<ActionKind, HTMLButtonElement>;
  private traffic: LineChart | undefined;
  private latency: LineChart | undefined;
  private queue: LineChart | undefined;
  private batches: BarChart | undefined;
  private current: VersionSummary | undefined;

  constructor(private ctx: ViewContext, version: string) {
    const button = (kind: ActionKind, text: string, title: string): HTMLButtonElement => {
      const b = h('button', { type: 'button', 'data-action': kind, title }, text);
      b.addEventListener('click', () => this.current && this.ctx.act(kind, this.ctx.model, this.current));
      return b;
    };
    this.buttons = {
      scale: button('scale', 'scale…', 'Set the number of workers (min_worker = max_worker)'),
      default: button('default', 'make default', 'Make this the default version'),
      unregister: button('unregister', 'unregister…', 'Drain and unregister this version'),
    };
    this.stats = h('dl', { class: 'stats' }, ...STATS.map(([key, label]) => h('div', {}, h('dt', {}, label), h('dd', { 'data-field': key }, '–'))));
    this.charts = h('div', { class: 'charts' });
    this.workerRows = h('tbody');
    this.codeRows = h('tbody');
    this.root = h(
      'div',
      { class: 'version', 'data-version': `${ctx.model}/${version}` },
      h(
        'div',
        { class: 'head' },
        h('h3', {}, `version ${version}`),
        h('span', { class: 'badge default', 'data-field': 'default' }, 'default'),
        h('span', { class: 'badge state', 'data-field': 'state' }),
        h('span', { class: 'actions' }, this.buttons.scale, this.buttons.default, this.buttons.unregister),
      ),
      this.stats,
      this.charts,
      h(
        'div',
        { class: 'tables' },
        h('table', { class: 'workers' }, h('thead', {}, h('tr', {}, ...['worker', 'state', 'pid', 'memory', 'CPU', 'started', 'load'].map((t) => h('th', {}, t)))), this.workerRows),
        h('table', { class: 'codes' }, h('thead', {}, h('tr', {}, h('th', {}, 'error code'), h('th', {}, 'count'))), this.codeRows),
      ),
    );
  }

  private chartWidth(): number {
    const width = this.charts.clientWidth || 960;
    return Math.max(MIN_CHART_WIDTH_PX, Math.floor((width - CHART_GAP_PX * (CHARTS_PER_ROW - 1)) / CHARTS_PER_ROW));
  }

  /** Charts are made once the block is in the document, when its width is known. */
  private ensureCharts(): void {
    if (this.traffic) return;
    const w = this.chartWidth();
    const box = (): HTMLElement => this.charts.appendChild(h('div', { class: 'chart' }));
    this.traffic = new LineChart(box(), 'requests / s', [
      { label: 'req/s', color: '#1f77b4' },
      { label: 'errors/s', color: '#d62728', right: true },
    ], w);
    this.latency = new LineChart(box(), 'latency (ms, 10 s window)', [
      { label: 'p50', color: '#2ca02c' },
      { label: 'p99', color: '#ff7f0e' },
    ], w);
    this.queue = new LineChart(box(), 'queue and in flight', [
      { label: 'queued', color: '#9467bd' },
      { label: 'in flight', color: '#8c564b' },
    ], w);
    this.batches = new BarChart(box(), 'batch sizes (since registration)', 'batches', '#17becf', w);
  }

  resize(): void {
    const w = this.chartWidth();
    for (const c of [this.traffic, this.latency, this.queue, this.batches]) c?.resize(w);
  }

  update(v: VersionSummary, series: VersionSeries | undefined, ctx: ViewContext): void {
    this.ctx = ctx;
    this.current = v;
    const s = this.stats;
    this.root.dataset['state'] = v.state;
    field(this.root, 'default').hidden = !v.isDefault;
    setText(field(this.root, 'state'), v.state, v.state);
    setText(field(s, 'workers'), `${v.liveWorkers} / ${v.targetWorkers}`, v.liveWorkers);
    setText(field(s, 'queue'), `${v.queue.depth} / ${v.queue.limit}`, v.queue.depth);
    setText(field(s, 'inflight'), String(v.inFlight), v.inFlight);
    setText(field(s, 'rps'), num(v.rps), v.rps);
    setText(field(s, 'p50'), ms(v.latencyMs.p50), v.latencyMs.p50);
    setText(field(s, 'p99'), ms(v.latencyMs.p99), v.latencyMs.p99);
    setText(field(s, 'batch'), num(v.batch.mean), v.batch.mean);
    setText(field(s, 'requests'), String(v.totals.requests), v.totals.requests);
    const errors = Object.values(v.errorsByCode).reduce((a, b) => a + b, 0);
    setText(field(s, 'errors'), String(errors), errors);
    setText(field(s, 'restarts'), String(v.restarts), v.restarts);

    this.buttons.default.hidden = v.isDefault;
    this.buttons.unregister.hidden = !ctx.modelApiEnabled || (v.isDefault && ctx.versionCount > 1);

    this.renderWorkers(v.workers);
    this.renderCodes(v.errorsByCode);
    this.ensureCharts();
    if (series) {
      this.traffic!.update([series.t, series.rps, series.errorsPerS]);
      this.latency!.update([series.t, series.p50Ms, series.p99Ms]);
      this.queue!.update([series.t, series.queue, series.inFlight]);
    }
    this.batches!.update(
      v.batch.sizes.map((b) => b.size),
      v.batch.sizes.map((b) => b.count),
    );
  }

  private renderWorkers(workers: WorkerSummary[]): void {
    const rows = workers.map((w) => {
      const cell = (name: string, text: string, value: string | number | null): HTMLElement => {
        const td = h('td', { 'data-field': name });
        setText(td, text, value);
        return td;
      };
      return h(
        'tr',
        { 'data-worker': w.id },
        cell('id', w.id, w.id),
        cell('state', w.state, w.state),
        cell('pid', w.pid === null ? '–' : String(w.pid), w.pid),
        cell('rss', bytes(w.rssBytes), w.rssBytes),
        cell('cpu', percent(w.cpuPercent), w.cpuPercent),
        cell('started', clock(w.startedAt), w.startedAt),
        cell('load', ms(w.loadTimeMs), w.loadTimeMs),
      );
    });
    if (rows.length === 0) rows.push(h('tr', {}, h('td', { colspan: '7', class: 'empty' }, 'no worker')));
    this.workerRows.replaceChildren(...rows);
  }

  private renderCodes(codes: Record<string, number>): void {
    const entries = Object.entries(codes);
    const rows = entries.map(([code, count]) => h('tr', { 'data-code': code }, h('td', {}, code), h('td', { 'data-field': 'count' }, String(count))));
    if (rows.length === 0) rows.push(h('tr', {}, h('td', { colspan: '2', class: 'empty' }, 'none')));
    this.codeRows.replaceChildren(...rows);
  }
}
