#!/usr/bin/env node
// Renders the OCR example's sample image (examples/ocr/samples/invoice.png) and its expected text
// (invoice.txt, one line per row in reading order) with sharp from SVG text in the DejaVu fonts.
// The PNG is committed; run this only to change it.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'ocr', 'samples');
const rows = [
  { y: 50, size: 30, font: 'DejaVu Sans', weight: 'bold', cells: [[30, 'ACME Tools Ltd.']] },
  { y: 95, size: 22, font: 'DejaVu Serif', cells: [[30, 'Invoice No. 2024-0117']] },
  { y: 130, size: 22, font: 'DejaVu Serif', cells: [[30, 'Date: 17 May 2024']] },
  { y: 185, size: 20, font: 'DejaVu Sans Mono', cells: [[30, '3 x Hammer'], [420, '36.90']] },
  { y: 220, size: 20, font: 'DejaVu Sans Mono', cells: [[30, '2 x Pliers'], [420, '19.80']] },
  { y: 270, size: 24, font: 'DejaVu Sans', weight: 'bold', cells: [[30, 'Total EUR'], [420, '56.70']] },
];
const texts = rows.flatMap((r) =>
  r.cells.map(([x, text]) => `<text x="${x}" y="${r.y}" font-family="${r.font}" font-size="${r.size}" font-weight="${r.weight ?? 'normal'}">${text}</text>`),
);
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="560" height="300"><rect width="100%" height="100%" fill="white"/>${texts.join('')}</svg>`;
await sharp(Buffer.from(svg)).greyscale().png({ compressionLevel: 9, palette: true, colours: 16 }).toFile(join(out, 'invoice.png'));
writeFileSync(join(out, 'invoice.txt'), `${rows.flatMap((r) => r.cells.map(([, t]) => t)).join('\n')}\n`);
console.log(`wrote ${join(out, 'invoice.png')}`);
