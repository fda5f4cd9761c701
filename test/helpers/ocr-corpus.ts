import type { DejaVu, TextItem, TextPage } from './text-images.js';

/** One line of text alone on a page sized to it, optionally turned. */
function single(name: string, text: string, font: DejaVu, size: number, opts: { bold?: boolean; rotate?: number; format?: 'png' | 'jpeg'; width?: number } = {}): TextPage {
  const width = opts.width ?? Math.round(text.length * size * 0.62 + 2 * size);
  const height = Math.round(size * 2.6);
  const item: TextItem = { text, x: size, y: Math.round(height / 2 + size * 0.35), size, font, ...(opts.bold ? { bold: true } : {}) };
  return { name, width, height, items: [item], ...(opts.rotate ? { rotate: opts.rotate } : {}), ...(opts.format ? { format: opts.format } : {}) };
}

/** Lines one under another, `leading` times the font size apart. */
function paragraph(name: string, lines: string[], font: DejaVu, size: number, bold = false, leading = 1.6): TextPage {
  const width = Math.round(Math.max(...lines.map((l) => l.length)) * size * 0.62 + 2 * size);
  const items = lines.map((text, i): TextItem => ({ text, x: size, y: Math.round(size * (1.8 + i * leading)), size, font, ...(bold ? { bold } : {}) }));
  return { name, width, height: Math.round(size * (1.8 + lines.length * leading)), items };
}

/** Rows of cells at fixed column positions; the first row bold. */
function table(name: string, rows: string[][], columns: number[], font: DejaVu, size: number): TextPage {
  const items = rows.flatMap((cells, r) => cells.map((text, c): TextItem => ({ text, x: columns[c]!, y: Math.round(size * (2 + r * 1.9)), size, font, ...(r === 0 ? { bold: true } : {}) })));
  return { name, width: columns[columns.length - 1]! + size * 6, height: Math.round(size * (2 + rows.length * 1.9)), items };
}

/**
 * The pages the OCR is measured on: single lines in each DejaVu family, regular and bold, from 14 to
 * 64 px, two turned a few degrees, one JPEG, one wider than the detector's 960 px; two paragraphs;
 * two tables of words and numbers. 43 items in all.
 */
export const OCR_CORPUS: readonly TextPage[] = [
  single('sans-16', 'Quarterly report 2023', 'DejaVu Sans', 16),
  single('serif-20', 'The quick brown fox jumps over the lazy dog', 'DejaVu Serif', 20),
  single('mono-18', 'ORDER-48213 shipped 2024-03-09', 'DejaVu Sans Mono', 18),
  single('sans-bold-36', 'Welcome to Paris', 'DejaVu Sans', 36, { bold: true }),
  single('serif-bold-28', 'Chapter 7: Results', 'DejaVu Serif', 28, { bold: true }),
  single('sans-48', '3.14159 26535', 'DejaVu Sans', 48),
  single('mono-bold-14', 'ERROR 404 page not found', 'DejaVu Sans Mono', 14, { bold: true }),
  single('sans-24-turned', 'Delivery address below', 'DejaVu Sans', 24, { rotate: 3 }),
  single('serif-22-turned', 'Meeting at 10:30 tomorrow', 'DejaVu Serif', 22, { rotate: -5 }),
  single('sans-64-wide', 'Summer Sale 50% off', 'DejaVu Sans', 64, { width: 1600 }),
  single('serif-26-jpeg', 'Phone +44 20 7946 0958', 'DejaVu Serif', 26, { format: 'jpeg' }),
  paragraph('serif-paragraph', [
    'Machine learning models need careful',
    'evaluation on data they have not seen',
    'before they are trusted in production.',
    'We measured accuracy on 1200 samples',
    'and report the mean over five runs.',
  ], 'DejaVu Serif', 18),
  paragraph('sans-small-paragraph', [
    'Terms and conditions apply to all orders.',
    'Returns are accepted within 30 days.',
    'Contact support@example.com for help.',
    'Prices include VAT at 20 percent.',
  ], 'DejaVu Sans', 15),
  table('mono-table', [
    ['Item', 'Qty', 'Price'],
    ['Apples', '12', '3.60'],
    ['Bread', '2', '4.25'],
    ['Coffee beans', '1', '11.99'],
  ], [20, 260, 380], 'DejaVu Sans Mono', 20),
  table('serif-scores', [
    ['Name', 'Score'],
    ['Alice', '93'],
    ['Bob', '87'],
    ['Carol', '78'],
  ], [24, 220], 'DejaVu Serif', 22),
  paragraph('sans-bold-amounts', ['Invoice 000123', 'Amount due 1,250.00', 'Due date 2024-12-31'], 'DejaVu Sans', 22, true),
];
