#!/usr/bin/env node
// Writes one held-out digit of each class as a PNG into examples/mnist/samples/, for the README's
// curl examples and for trying the server by hand. The files are tiny and committed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { heldOutSet, toPngBuffer } from './lib/mnist-split.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'mnist', 'samples');
mkdirSync(out, { recursive: true });
const written = new Set();
for (const sample of heldOutSet()) {
  if (written.has(sample.label)) continue;
  writeFileSync(join(out, `digit-${sample.label}.png`), toPngBuffer(sample.pixels));
  written.add(sample.label);
}
console.log(`wrote ${written.size} samples to ${out}`);
