import 'uplot/dist/uPlot.min.css';
import '../app.css';
import type { ErrorEntry, StatusSummary, VersionSeries, VersionSummary } from '../../src/status/summary-types.js';
import { confirmAction, management, toast } from './actions.js';
import { byId, field, h, setText } from './dom.js';
import { bytes, clock, duration, ms, percent } from './format.js';
import { forgetKey, loadKey, saveKey } from './key-store.js';
import { StatusStream, type StreamState } from './status-stream.js';
import { appendSeries, VersionView, type ActionKind, type ViewContext } from './version-view.js';

/** The server's max_workers_per_model default; the server checks the real bound. */
const MAX_WORKERS_ASKED = 32;

const views = new Map<string, VersionView>();
const modelBlocks = new Map<string, HTMLElement>();
const kept = new Map<string, VersionSeries>();
let last: StatusSummary | undefined;

const STATE_TEXT: Record<StreamState, string> = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', unauthorized: 'needs the management key' };

const stream = new StatusStream({
  onState(state) {
    const el = byId('connection');
    el.dataset['state'] = state;
    setText(el, STATE_TEXT[state]);
    byId('forget-key').hidden = loadKey() === undefined;
    if (state === 'unauthorized') showKeyPrompt(loadKey() !== undefined ? 'This key was refused.' : undefined);
    if (state === 'live') byId('key-prompt').hidden = true;
  },
  onSummary(kind, summary) {
    render(kind, summary);
  },
});

function showKeyPrompt(error?: string): void {
  byId('key-prompt').hidden = false;
  const e = byId('key-error');
  e.hidden = error === undefined;
  setText(e, error ?? '');
  byId<HTMLInputElement>('key-input').focus();
}

byId<HTMLFormElement>('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = byId<HTMLInputElement>('key-input');
  const key = input.value.trim();
  if (key === '') return;
  saveKey(key);
  input.value = '';
  stream.restart();
});

byId('forget-key').addEventListener('click', () => {
  forgetKey();
  stream.restart();
});

function renderServer(s: StatusSummary): void {
  const root = byId('server');
  const srv = s.server;
  setText(field(root, 'version'), srv.version);
  setText(field(root, 'uptime'), duration(srv.uptimeS), srv.uptimeS);
  setText(field(root, 'auth'), srv.tokenAuthorization ? 'on' : 'off', String(srv.tokenAuthorization));
  setText(field(root, 'memory'), `${bytes(srv.memory.rssBytes)} (heap ${bytes(srv.memory.heapUsedBytes)})`, srv.memory.rssBytes);
  setText(field(root, 'cpu'), percent(srv.cpuPercent), srv.cpuPercent);
  setText(field(root, 'loop'), srv.eventLoopDelayMs ? ms(srv.eventLoopDelayMs.p99) : '–', srv.eventLoopDelayMs?.p99 ?? null);
  for (const api of ['inference', 'management', 'metrics'] as const) setText(field(root, api), srv.addresses[api]);
  document.title = `model-server · ${s.models.length} model${s.models.length === 1 ? '' : 's'}`;
}

function renderModels(s: StatusSummary, kind: 'full' | 'tick'): void {
  const container = byId('models');
  const seen = new Set<string>();
  const seenModels = new Set<string>();
  for (const model of s.models) {
    seenModels.add(model.name);
    let block = modelBlocks.get(model.name);
    if (!block) {
      block = h('article', { class: 'model', 'data-model': model.name }, h('h2', {}, model.name));
      modelBlocks.set(model.name, block);
    }
    if (block.parentElement !== container) container.append(block);
    for (const v of model.versions) {
      const key = `${model.name}/${v.version}`;
      seen.add(key);
      const ctx: ViewContext = { model: model.name, modelApiEnabled: s.server.modelApiEnabled, versionCount: model.versions.length, act };
      let view = views.get(key);
      if (!view) {
        view = new VersionView(ctx, v.version);
        views.set(key, view);
      }
      if (view.root.parentElement !== block) block.append(view.root);
      let series = kept.get(key);
      if (v.series && (kind === 'full' || !series)) {
        series = structuredClone(v.series);
        kept.set(key, series);
      } else if (v.series && series) {
        appendSeries(series, v.series, s.windows.historyS);
      }
      view.update(v, series, ctx);
    }
  }
  for (const [key, view] of views) {
    if (seen.has(key)) continue;
    view.root.remove();
    views.delete(key);
    kept.delete(key);
  }
  for (const [name, block] of modelBlocks) {
    if (seenModels.has(name)) continue;
    block.remove();
    modelBlocks.delete(name);
  }
  byId('no-models').hidden = s.models.length > 0;
}

function renderErrors(errors: ErrorEntry[]): void {
  const table = byId<HTMLTableElement>('error-table');
  byId('no-errors').hidden = errors.length > 0;
  table.hidden = errors.length === 0;
  const rows = errors.map((e) => {
    const message = e.stack ? h('details', {}, h('summary', {}, e.message), h('pre', {}, e.stack)) : h('span', {}, e.message);
    return h(
      'tr',
      { 'data-request-id': e.requestId },
      h('td', { 'data-field': 'time' }, clock(e.time)),
      h('td', { 'data-field': 'model' }, `${e.model}/${e.version}`),
      h('td', { 'data-field': 'request-id' }, e.requestId),
      h('td', { 'data-field': 'status' }, String(e.status)),
      h('td', { 'data-field': 'code' }, e.code),
      h('td', { 'data-field': 'message' }, message),
    );
  });
  // Rebuilt only when the list changed, so an opened stack stays open.
  const signature = errors.map((e) => `${e.time}:${e.requestId}`).join('|');
  const body = table.tBodies[0]!;
  if (body.dataset['signature'] !== signature) {
    body.dataset['signature'] = signature;
    body.replaceChildren(...rows);
  }
}

function render(kind: 'full' | 'tick', s: StatusSummary): void {
  last = s;
  renderServer(s);
  renderModels(s, kind);
  renderErrors(s.errors);
  document.body.dataset['seq'] = String(s.seq);
}

const path = (model: string, version: string): string => `/models/${encodeURIComponent(model)}/${encodeURIComponent(version)}`;

async function act(kind: ActionKind, model: string, v: VersionSummary): Promise<void> {
  const name = `${model} version ${v.version}`;
  let method: 'PUT' | 'DELETE';
  let target: string;
  if (kind === 'scale') {
    const n = await confirmAction({
      title: `Scale ${name}`,
      body: `Keep this many workers (sets min_worker and max_worker; now ${v.targetWorkers}). Fewer workers finish their running batch before they stop.`,
      confirm: 'Scale',
      workers: { value: v.targetWorkers, max: MAX_WORKERS_ASKED },
    });
    if (n === undefined) return;
    method = 'PUT';
    target = `${path(model, v.version)}?min_worker=${Number(n)}&max_worker=${Number(n)}`;
  } else if (kind === 'default') {
    if ((await confirmAction({ title: `Make ${name} the default`, body: `Requests to /predictions/${model} will be served by version ${v.version}.`, confirm: 'Make default' })) === undefined) return;
    method = 'PUT';
    target = `${path(model, v.version)}/set-default`;
  } else {
    const body = `Queued requests are answered with 503, running ones finish, then its ${v.workers.length} worker(s) stop. This cannot be undone from here.`;
    if ((await confirmAction({ title: `Unregister ${name}?`, body, confirm: 'Unregister', danger: true })) === undefined) return;
    method = 'DELETE';
    target = path(model, v.version);
  }
  const result = await management(method, target);
  toast(result.message, result.ok);
  if (!result.ok && result.message.includes('Authorization')) stream.restart();
}

window.addEventListener('resize', () => {
  for (const view of views.values()) view.resize();
});

// For tests and the curious: the last summary drawn.
Object.defineProperty(window, 'modelServerStatus', { get: () => last });

stream.restart();
