#!/usr/bin/env node
// Regenerates docs/images/dashboard.png, the README's picture of the status page: the example models
// under a little load, one failing request, in Debian's chromium (playwright-core, no downloaded browser).
// Run after `npm run build`:  node scripts/dashboard-screenshot.mjs [out.png]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { EPHEMERAL_LOOPBACK, Gateway, createLogger, loadServerConfig } from '@model-server/gateway';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'docs/images/dashboard.png');
const LOAD_MS = 25_000;

const config = loadServerConfig({
  overrides: {
    ...EPHEMERAL_LOOPBACK,
    model_store: join(root, 'model-store'),
    disable_token_authorization: true,
    enable_model_api: true,
  },
});
const gateway = await Gateway.start({ config, models: ['mnist=mnist.mar', 'echo_stream=echo_stream.mar'], logger: createLogger('warn') });
const profile = await mkdtemp(join(tmpdir(), 'ms-screenshot-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1200, height: 900 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${gateway.addresses.management}/dashboard/`);
  const digit = await readFile(join(root, 'examples/mnist/samples/digit-7.png'));
  const until = Date.now() + LOAD_MS;
  const loop = async (send) => {
    while (Date.now() < until) await (await send()).arrayBuffer();
  };
  const mnist = () => fetch(`${gateway.addresses.inference}/predictions/mnist`, { method: 'POST', body: digit });
  const echo = () => fetch(`${gateway.addresses.inference}/predictions/echo_stream`, { method: 'POST', body: 'hello' });
  // A ramp, so the charts show something happening.
  const clients = [loop(mnist), loop(echo), loop(echo)];
  setTimeout(() => clients.push(loop(mnist), loop(mnist)), LOAD_MS / 3);
  setTimeout(() => void fetch(`${gateway.addresses.inference}/predictions/mnist`, { method: 'POST', body: 'not an image', headers: { 'x-request-id': 'a-bad-upload' } }), LOAD_MS / 2);
  await new Promise((r) => setTimeout(r, LOAD_MS));
  await Promise.all(clients);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await gateway.stop();
  await rm(profile, { recursive: true, force: true });
}
