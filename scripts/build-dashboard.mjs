#!/usr/bin/env node
// Bundles the status page (packages/gateway/dashboard) into packages/gateway/dist/dashboard-ui/:
// index.html, app.js (the page's code with uPlot) and app.css. Run by `npm run build`; the gateway
// serves these files and nothing else, so the page works offline and fetches nothing from anywhere.
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'packages/gateway/dashboard');
const out = join(root, 'packages/gateway/dist/dashboard-ui');

// uPlot is MIT licensed: its notice travels with the bundle that contains it.
const uplotLicense = await readFile(join(root, 'node_modules/uplot/LICENSE'), 'utf8');
const banner = `/*! The model-server status page. Bundles uPlot (https://github.com/leeoniya/uPlot):\n${uplotLicense.trim().replaceAll('*/', '* /')}\n*/`;

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: join(source, 'src/main.ts') },
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  banner: { js: banner },
  outdir: out,
  logLevel: 'warning',
});
await copyFile(join(source, 'index.html'), join(out, 'index.html'));
