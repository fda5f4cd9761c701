import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSummary } from '@model-server/gateway';
import { CLI, startCli, type CliServer } from './helpers/cli-server.js';
import { mgmt } from './helpers/management.js';
import { buildModel, tempDir } from './helpers/models.js';
import { samples, value } from './helpers/prom-text.js';
import { startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

/** Debian's chromium (.ci/run installs it); never a downloaded browser. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Chrome logs every answer >= 400 to a fetch as a console error; the page's 401 for a wrong key is expected. */
const EXPECTED_CONSOLE = /Failed to load resource: the server responded with a status of 401/;

interface Keys {
  management: { key: string };
  inference: { key: string };
  API: { key: string };
}

let dir: string;
let server: CliServer;
let management: string;
let metricsUrl: string;
let keys: Keys;
let browser: BrowserContext;
let page: Page;
const consoleProblems: string[] = [];

const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
const mgmtAuth = (): Record<string, string> => bearer(keys.management.key);

async function launchBrowser(userDataDir: string): Promise<BrowserContext> {
  await mkdir(userDataDir, { recursive: true });
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 1000 } });
}

function watchConsole(p: Page): void {
  p.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !EXPECTED_CONSOLE.test(m.text())) consoleProblems.push(`${m.type()}: ${m.text()}`);
  });
  p.on('pageerror', (e) => consoleProblems.push(`pageerror: ${e.message}`));
}

async function metricsText(): Promise<string> {
  return (await fetch(`${metricsUrl}/metrics`)).text();
}

async function summary(): Promise<StatusSummary> {
  const res = await fetch(`${management}/status`, { headers: mgmtAuth() });
  expect(res.status).toBe(200);
  return (await res.json()) as StatusSummary;
}

/** What the page drew last (the summary behind the figures on screen). */
function shown(): Promise<StatusSummary> {
  // A string: the test's types know no DOM.
  return page.evaluate('window.modelServerStatus') as Promise<StatusSummary>;
}

const versionBlock = (model: string, version: string) => page.locator(`[data-version="${model}/${version}"]`);
const statOf = (model: string, version: string, name: string) => versionBlock(model, version).locator(`dl.stats [data-field="${name}"]`);

async function shownNumber(model: string, version: string, name: string): Promise<{ text: string; value: number }> {
  const el = statOf(model, version, name);
  return { text: (await el.textContent()) ?? '', value: Number(await el.getAttribute('data-value')) };
}

/** Prometheus' histogram_quantile, written here again so the page's figures are checked against an independent computation. */
function quantile(q: number, buckets: { le: number; count: number }[]): number {
  const total = buckets[buckets.length - 1]!.count;
  const rank = q * total;
  const i = buckets.findIndex((b) => b.count >= rank);
  if (buckets[i]!.le === Infinity) return buckets[i - 1]!.le;
  const lower = i === 0 ? 0 : buckets[i - 1]!.le;
  const below = i === 0 ? 0 : buckets[i - 1]!.count;
  return lower + (buckets[i]!.le - lower) * ((rank - below) / (buckets[i]!.count - below));
}

function latencyBuckets(text: string, model: string, version: string): { le: number; count: number }[] {
  return samples(text, 'ts_request_duration_seconds_bucket', { model_name: model, model_version: version }).map((s) => ({
    le: s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']) * 1000,
    count: s.value,
  }));
}

/** Closed-loop clients posting `body` to a model until stopped; counts answers by completion time. */
function load(model: string, clients: number, body: unknown) {
  let stopped = false;
  const done: number[] = [];
  const one = async (): Promise<void> => {
    while (!stopped) {
      const res = await fetch(`${server.inference}/predictions/${model}`, {
        method: 'POST',
        headers: { ...bearer(keys.inference.key), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`load on ${model}: ${res.status}`);
      done.push(performance.now());
    }
  };
  const running = Promise.all(Array.from({ length: clients }, one));
  return {
    /** Answers per second over the last `seconds`. */
    rate: (seconds: number) => done.filter((t) => t >= performance.now() - seconds * 1000).length / seconds,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

beforeAll(async () => {
  dir = await tempDir('ms-dashboard-');
  const store = join(dir, 'store');
  // Two models under load; alpha has two versions, for set-default and unregister.
  await buildModel(store, { name: 'alpha', version: '1.0', config: 'batchSize: 4\nmaxBatchDelay: 5\n' });
  await rename(join(store, 'alpha.mar'), join(store, 'alpha-1.mar'));
  await buildModel(store, { name: 'alpha', version: '2.0' });
  await rename(join(store, 'alpha.mar'), join(store, 'alpha-2.mar'));
  await buildModel(store, { name: 'beta' });
  const config = join(dir, 'config.properties');
  await writeFile(
    config,
    [
      'inference_address=http://127.0.0.1:0',
      'management_address=http://127.0.0.1:0',
      'metrics_address=http://127.0.0.1:0',
      'grpc_inference_port=0',
      'grpc_management_port=0',
      `token_key_file=${join(dir, 'key_file.json')}`,
      'enable_model_api=true',
      '',
    ].join('\n'),
  );
  server = await startCli(
    ['start', '--foreground', '--ncs', '--ts-config', config, '--model-store', store, '--models', 'alpha=alpha-1.mar', '--models', 'alpha=alpha-2.mar', '--models', 'beta=beta.mar'],
    { MODEL_SERVER_STATE_DIR: dir, LOG_LOCATION: dir },
  );
  // The CLI records each server in a state file of its own in MODEL_SERVER_STATE_DIR (one per folder).
  const stateFile = (await readdir(dir)).find((n) => n.endsWith('.json') && n !== 'key_file.json')!;
  const state = JSON.parse(await readFile(join(dir, stateFile), 'utf8')) as { addresses: { management: string; metrics: string } };
  management = state.addresses.management;
  metricsUrl = state.addresses.metrics;
  keys = JSON.parse(await readFile(join(dir, 'key_file.json'), 'utf8')) as Keys;
  browser = await launchBrowser(join(dir, 'chromium-profile'));
  page = await browser.newPage();
  watchConsole(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('status page with token authorization on', () => {
  it('serves its files without a key, but no figure without the management key', async () => {
    const html = await fetch(`${management}/dashboard/`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    for (const asset of ['app.js', 'app.css']) expect((await fetch(`${management}/dashboard/${asset}`)).status).toBe(200);
    const redirect = await fetch(`${management}/dashboard`, { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([301, 'dashboard/']);
    for (const path of ['/status', '/status/events']) {
      expect((await fetch(`${management}${path}`)).status).toBe(401);
      expect((await fetch(`${management}${path}`, { headers: bearer(keys.inference.key) })).status).toBe(401);
    }
    expect((await fetch(`${management}/status`, { headers: mgmtAuth() })).status).toBe(200);
  });

  it('asks for the key, says when it is refused, then shows every model and version', async () => {
    await page.goto(`${management}/dashboard`);
    await page.locator('#key-prompt').waitFor({ state: 'visible' });
    await page.fill('#key-input', 'not-the-key');
    await page.click('#key-submit');
    await page.locator('#key-error').filter({ hasText: 'refused' }).waitFor();
    await page.fill('#key-input', keys.management.key);
    await page.click('#key-submit');
    await page.locator('#connection[data-state="live"]').waitFor();
    expect(await page.locator('#key-prompt').isHidden()).toBe(true);
    for (const [m, v] of [['alpha', '1.0'], ['alpha', '2.0'], ['beta', '1.0']] as const) {
      await versionBlock(m, v).waitFor();
      expect(await versionBlock(m, v).locator('.head [data-field="state"]').textContent()).toBe('ready');
    }
    const header = page.locator('#server');
    expect(await header.locator('[data-field="auth"]').textContent()).toBe('on');
    expect(await header.locator('[data-field="inference"]').textContent()).toBe(server.inference);
    expect(await header.locator('[data-field="management"]').textContent()).toBe(management);
    // The key stays in this tab's sessionStorage only.
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual(['model-server.management-key']);
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  it('with load on two models, shows the figures of the management API and /metrics', async () => {
    const defaultAlpha = (await mgmt(management, 'GET', '/models/alpha', { headers: mgmtAuth() })).json[0].modelVersion as string;
    const before = await metricsText();
    for (const [m, v] of [['alpha', defaultAlpha], ['beta', '1.0']]) {
      expect(value(before, 'ts_inference_requests_total', { model_name: m!, model_version: v! })).toBe(0);
    }
    const alpha = load('alpha', 3, { op: 'sleep', ms: 4 });
    const beta = load('beta', 2, { op: 'sleep', ms: 2 });
    try {
      // Past the 10 s rate window: the rate shown is then the load's alone.
      await new Promise((r) => setTimeout(r, 11_500));
      for (const [m, v, l] of [['alpha', defaultAlpha, alpha], ['beta', '1.0', beta]] as const) {
        const rps = await shownNumber(m, v, 'rps');
        const clients = l.rate(10);
        expect(rps.value, `${m} req/s shown ${rps.value}, clients got ${clients}/s`).toBeGreaterThan(clients * 0.75);
        expect(rps.value).toBeLessThan(clients * 1.25);
        expect(Number(rps.text)).toBeCloseTo(rps.value, rps.value >= 100 ? -1 : 0);
      }
    } finally {
      await alpha.stop();
      await beta.stop();
    }

    const after = await metricsText();
    const versions = [['alpha', defaultAlpha], ['beta', '1.0']] as const;
    // Once a sample after the last request is drawn, the totals are those of /metrics.
    for (const [m, v] of versions) {
      const total = value(after, 'ts_inference_requests_total', { model_name: m, model_version: v });
      expect(total).toBeGreaterThan(100);
      await waitFor(async () => (await shownNumber(m, v, 'requests')).value === total, 5_000, `${m} requests shown = ${total}`);
    }
    const drawn = await shown();
    const describe = async (m: string, v: string) => (await mgmt(management, 'GET', `/models/${m}/${v}`, { headers: mgmtAuth() })).json[0];
    for (const [m, v] of versions) {
      const labels = { model_name: m, model_version: v };
      const fig = drawn.models.find((x) => x.name === m)!.versions.find((x) => x.version === v)!;
      // Every request of this test lies within the latency window.
      expect(fig.latencyMs.count).toBe(value(after, 'ts_inference_requests_total', labels));
      const buckets = latencyBuckets(after, m, v);
      for (const [name, q] of [['p50', 0.5], ['p99', 0.99]] as const) {
        const expected = quantile(q, buckets);
        const got = await shownNumber(m, v, name);
        expect(got.value).toBeCloseTo(expected, Math.max(0, 3 - Math.ceil(Math.log10(expected))));
        expect(Number.parseFloat(got.text)).toBeCloseTo(expected, Math.max(0, 2 - Math.ceil(Math.log10(expected))));
        expect(got.text).toMatch(/ ms$/);
      }
      const batchMean = value(after, 'ts_batch_size_sum', labels) / value(after, 'ts_batch_size_count', labels);
      expect((await shownNumber(m, v, 'batch')).value).toBeCloseTo(batchMean, 2);
      expect((await shownNumber(m, v, 'errors')).value).toBe(value(after, 'ts_inference_results_total', { ...labels, result: 'error' }));

      const d = await describe(m, v);
      expect(await statOf(m, v, 'queue').textContent()).toBe(`${d.jobQueueStatus.pendingRequests} / ${d.jobQueueStatus.pendingRequests + d.jobQueueStatus.remainingCapacity}`);
      expect(await statOf(m, v, 'workers').textContent()).toBe(`${d.workers.length} / ${d.minWorkers}`);
      const rows = versionBlock(m, v).locator('table.workers tbody tr');
      expect(await rows.count()).toBe(d.workers.length);
      for (const w of d.workers as { pid: number; status: string; memoryUsage: number }[]) {
        const row = versionBlock(m, v).locator(`table.workers tr:has(td[data-field="pid"][data-value="${w.pid}"])`);
        expect(w.status).toBe('READY');
        expect(await row.locator('[data-field="state"]').textContent()).toBe('ready');
        expect(Number(await row.locator('[data-field="rss"]').getAttribute('data-value'))).toBeGreaterThan(10 * 1024 * 1024);
        expect(await row.locator('[data-field="rss"]').textContent()).toMatch(/ MB$/);
      }
      // Batch sizes: the Triton statistics of the same version.
      const stats = (await (await fetch(`${server.inference}/v2/models/${m}/versions/${v}/stats`, { headers: bearer(keys.inference.key) })).json()) as {
        model_stats: { batch_stats: { batch_size: number; compute_infer: { count: number } }[] }[];
      };
      expect(fig.batch.sizes).toEqual(stats.model_stats[0]!.batch_stats.map((b) => ({ size: b.batch_size, count: b.compute_infer.count })));
    }
    // alpha batches (batchSize 4, three clients), beta does not (batchSize 1).
    expect((await shownNumber('alpha', defaultAlpha, 'batch')).value).toBeGreaterThan(1.2);
    expect((await shownNumber('beta', '1.0', 'batch')).value).toBe(1);
    // The server line: memory, event-loop delay and CPU are measured while the page is open.
    expect(drawn.server.eventLoopDelayMs).not.toBeNull();
    expect(Number(await page.locator('#server [data-field="memory"]').getAttribute('data-value'))).toBeGreaterThan(20 * 1024 * 1024);
  });

  it('lists a failing request within two seconds, its message as text', async () => {
    const message = '<img src=x onerror="document.title=1"> boom';
    const res = await fetch(`${server.inference}/predictions/beta`, {
      method: 'POST',
      headers: { ...bearer(keys.inference.key), 'content-type': 'application/json', 'x-request-id': 'dash-fail-1' },
      body: JSON.stringify({ op: 'throw', message }),
    });
    expect(res.status).toBe(500);
    const answeredAt = performance.now();
    const row = page.locator('#error-table tr[data-request-id="dash-fail-1"]');
    await row.waitFor({ timeout: 5_000 });
    expect(performance.now() - answeredAt).toBeLessThan(2_000);
    expect(await row.locator('[data-field="model"]').textContent()).toBe('beta/1.0');
    expect(await row.locator('[data-field="status"]').textContent()).toBe('500');
    expect(await row.locator('[data-field="code"]').textContent()).toBe('HANDLER_ERROR');
    expect(await row.locator('[data-field="message"] summary').textContent()).toBe(message);
    expect(await row.locator('[data-field="message"] pre').textContent()).toContain('handler.ts');
    expect(await page.locator('#error-table img').count()).toBe(0);
    await waitFor(async () => (await shownNumber('beta', '1.0', 'errors')).value === 1, 3_000, 'beta errors = 1');
    expect(await versionBlock('beta', '1.0').locator('table.codes tr[data-code="HANDLER_ERROR"] [data-field="count"]').textContent()).toBe('1');
    expect(value(await metricsText(), 'ts_inference_results_total', { model_name: 'beta', model_version: '1.0', result: 'error' })).toBe(1);
  });

  it('scales workers after a confirmation, and not when it is cancelled', async () => {
    const scale = versionBlock('beta', '1.0').locator('button[data-action="scale"]');
    await scale.click();
    await page.locator('#confirm[open]').waitFor();
    await page.click('#confirm-cancel');
    await page.locator('#confirm[open]').waitFor({ state: 'detached' });
    const workers = async () => (await mgmt(management, 'GET', '/models/beta/1.0', { headers: mgmtAuth() })).json[0].workers as { pid: number; status: string }[];
    expect(await workers()).toHaveLength(1);

    await scale.click();
    await page.fill('#confirm-input', '2');
    await page.click('#confirm-ok');
    await page.locator('#toast').filter({ hasText: 'Processing worker updates' }).waitFor();
    await waitFor(async () => (await workers()).filter((w) => w.status === 'READY').length === 2, 30_000, 'two READY beta workers');
    await versionBlock('beta', '1.0').locator('dl.stats [data-field="workers"]').filter({ hasText: '2 / 2' }).waitFor();
    for (const w of await workers()) await versionBlock('beta', '1.0').locator(`td[data-field="pid"][data-value="${w.pid}"]`).waitFor();
  });

  it('sets the default version and unregisters the other one, each after a confirmation', async () => {
    const described = async () => (await mgmt(management, 'GET', '/models/alpha', { headers: mgmtAuth() })).json[0].modelVersion as string;
    const oldDefault = await described();
    const other = oldDefault === '1.0' ? '2.0' : '1.0';
    expect(await versionBlock('alpha', oldDefault).locator('button[data-action="unregister"]').isHidden()).toBe(true);
    await versionBlock('alpha', other).locator('button[data-action="default"]').click();
    await page.click('#confirm-ok');
    await waitFor(async () => (await described()) === other, 5_000, `alpha default = ${other}`);
    await versionBlock('alpha', other).locator('[data-field="default"]:visible').waitFor();

    await versionBlock('alpha', oldDefault).locator('button[data-action="unregister"]').click();
    await page.locator('#confirm-ok.danger').click();
    await versionBlock('alpha', oldDefault).waitFor({ state: 'detached', timeout: 15_000 });
    const all = (await mgmt(management, 'GET', '/models/alpha/all', { headers: mgmtAuth() })).json as { modelVersion: string }[];
    expect(all.map((v) => v.modelVersion)).toEqual([other]);
  });

  it('saves a screenshot, and drew it without a script error or a refused resource', async () => {
    const file = join(dir, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    const png = await readFile(file);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect((await stat(file)).size).toBeGreaterThan(20_000);
    expect(consoleProblems).toEqual([]);
  });
});

describe('model-server status', () => {
  const cli = promisify(execFile);
  const env = () => ({ ...process.env, MODEL_SERVER_STATE_DIR: dir, MODEL_SERVER_MANAGEMENT_KEY: '' });

  it('prints the summary as a table, with the figures GET /status gives', async () => {
    const before = await summary();
    const { stdout } = await cli(process.execPath, [CLI, 'status'], { env: env() });
    const after = await summary();
    expect(stdout).toMatch(/is running/);
    expect(stdout).toContain(`page: ${management}/dashboard/`);
    const header = stdout.split('\n').find((l) => l.startsWith('MODEL'))!.trim().split(/\s{2,}/);
    expect(header).toEqual(['MODEL', 'VERSION', 'STATE', 'WORKERS', 'QUEUE', 'IN FLIGHT', 'REQ/S', 'P50', 'P99', 'BATCH', 'REQUESTS', 'ERRORS']);
    const rows = stdout.split('\n').filter((l) => /^(alpha|beta)\s/.test(l)).map((l) => l.trim().split(/\s{2,}/));
    expect(rows.map((r) => `${r[0]} ${r[1]}`)).toEqual(after.models.flatMap((m) => m.versions.map((v) => `${m.name} ${v.version}${v.isDefault ? '*' : ''}`)));
    for (const row of rows) {
      const [name, version] = [row[0]!, row[1]!.replace('*', '')];
      const pick = (s: StatusSummary) => s.models.find((m) => m.name === name)!.versions.find((v) => v.version === version)!;
      const [b, a] = [pick(before), pick(after)];
      expect(row[2]).toBe(a.state);
      expect(row[3]).toBe(`${a.liveWorkers}/${a.targetWorkers}`);
      expect(row[4]).toBe(`${a.queue.depth}/${a.queue.limit}`);
      expect(row[10]).toBe(String(a.totals.requests));
      // A sample may land between the three reads: the CLI shows one of the two around it.
      expect([b.rps, a.rps].map((x) => Number(x.toPrecision(3)))).toContain(Number(row[6]));
      expect([b.latencyMs.p99, a.latencyMs.p99].map((x) => (x === null ? '-' : `${Number(x.toPrecision(3))} ms`))).toContain(row[8]);
    }
    expect(stdout).toMatch(/Last errors:\n.*beta\/1\.0 {2}dash-fail-1 {2}500 HANDLER_ERROR/);
  });

  it('redraws the table with --watch until interrupted', async () => {
    const child = execa(process.execPath, [CLI, 'status', '--watch', '--interval', '0.3'], { env: env(), reject: false, buffer: false });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor(() => (out.match(/^MODEL {2}/gm) ?? []).length >= 3, 10_000, 'three tables');
    child.kill('SIGINT');
    expect((await child).exitCode).toBe(0);
  });

  it('says when the key is refused', async () => {
    const r = await execa(process.execPath, [CLI, 'status'], { env: { ...env(), MODEL_SERVER_MANAGEMENT_KEY: 'wrong' }, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/refused the key/);
  });
});

describe('a regenerated management key', () => {
  it('ends the streams opened with the old one: the page asks for the key again', async () => {
    const res = await fetch(`${management}/token?type=management`, { headers: bearer(keys.API.key) });
    expect(res.status).toBe(200);
    await page.locator('#key-prompt').waitFor({ state: 'visible', timeout: 5_000 });
    expect(await page.locator('#connection').getAttribute('data-state')).toBe('unauthorized');
  });
});

describe('status page with token authorization off', () => {
  let open: TestServer;

  beforeAll(async () => {
    const store = join(dir, 'store-open');
    await buildModel(store, { name: 'gamma' });
    open = await startServer({ store, models: ['gamma.mar'] });
  });
  afterAll(() => open?.stop());

  it('just works: no key asked, figures shown', async () => {
    const p = await browser.newPage();
    watchConsole(p);
    await p.goto(`${open.management}/dashboard/`);
    await p.locator('[data-version="gamma/1.0"] .head [data-field="state"]').filter({ hasText: 'ready' }).waitFor();
    expect(await p.locator('#key-prompt').isHidden()).toBe(true);
    expect(await p.locator('#server [data-field="auth"]').textContent()).toBe('off');
    expect(await p.locator('button[data-action="unregister"]').count()).toBe(1);
    expect(await p.locator('button[data-action="unregister"]').isHidden()).toBe(true);
    await p.close();
    expect(consoleProblems).toEqual([]);
  });

  it('keeps at most 32 status streams open', async () => {
    const controllers = Array.from({ length: 32 }, () => new AbortController());
    try {
      const streams = await Promise.all(controllers.map((c) => fetch(`${open.management}/status/events`, { signal: c.signal })));
      expect(streams.map((r) => r.status)).toEqual(controllers.map(() => 200));
      const refused = await fetch(`${open.management}/status/events`);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { errorCode: string }).errorCode).toBe('STATUS_STREAMS_LIMIT');
    } finally {
      for (const c of controllers) c.abort();
    }
    // Closed streams free their places.
    await waitFor(async () => {
      const c = new AbortController();
      const r = await fetch(`${open.management}/status/events`, { signal: c.signal });
      c.abort();
      return r.status === 200;
    }, 5_000, 'a stream place freed');
  });
});
