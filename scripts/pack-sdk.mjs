#!/usr/bin/env node
// Packs the handler SDK for handler projects outside this repository: packs/model-server-sdk-<v>.tgz and
// packs/model-server-protocol-<v>.tgz (the SDK's one workspace dependency; install the two together:
// `npm install <repo>/packs/model-server-protocol-0.1.0.tgz <repo>/packs/model-server-sdk-0.1.0.tgz`).
// Run after `tsc -b` (npm run build does both). Prints the tarballs' paths.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dest = process.argv[2] ?? join(root, 'packs');
mkdirSync(dest, { recursive: true });
// npm's own CLI when run from an npm script, else the npm on PATH.
const npmCli = process.env['npm_execpath'];
const [command, prefix] = npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
const out = execFileSync(command, [...prefix, 'pack', '--json', '--pack-destination', dest, '-w', 'packages/protocol', '-w', 'packages/sdk'], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'ignore'],
});
for (const entry of JSON.parse(out)) console.log(`packed ${join(dest, entry.filename)}`);
