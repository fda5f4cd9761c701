#!/usr/bin/env node
// The `model-archiver` command. Committed, unlike dist/, so npm links it at install time (see
// scripts/lib/ensure-built.mjs): `npx model-archiver` always runs this checkout's code.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
if (!existsSync(main)) {
  const { ensureBuilt } = await import(new URL('../../../scripts/lib/ensure-built.mjs', import.meta.url).href);
  ensureBuilt('packages/model-archiver', 'model-archiver');
}
await import(pathToFileURL(main).href);
