import sharp from 'sharp';

/** DejaVu families as fontconfig names them (Debian's fonts-dejavu). */
export type DejaVu = 'DejaVu Sans' | 'DejaVu Serif' | 'DejaVu Sans Mono';

/** One piece of text drawn at a known place: its left edge and baseline, in pixels. */
export interface TextItem {
  readonly text: string;
  readonly x: number;
  readonly y: number;
  readonly size: number;
  readonly font: DejaVu;
  readonly bold?: boolean;
}

/** A test image: a page of text items, optionally turned about its centre (degrees, clockwise). */
export interface TextPage {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly items: readonly TextItem[];
  readonly rotate?: number;
  readonly format?: 'png' | 'jpeg';
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Renders the page with librsvg (through sharp): black text on white, as PNG or JPEG (quality 90). */
export async function renderPage(page: TextPage): Promise<Buffer> {
  const texts = page.items.map(
    (t) => `<text x="${t.x}" y="${t.y}" font-family="${t.font}" font-size="${t.size}" font-weight="${t.bold ? 'bold' : 'normal'}">${escape(t.text)}</text>`,
  );
  const turn = page.rotate ? ` transform="rotate(${page.rotate} ${page.width / 2} ${page.height / 2})"` : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${page.width}" height="${page.height}"><rect width="100%" height="100%" fill="white"/><g${turn}>${texts.join('')}</g></svg>`;
  const image = sharp(Buffer.from(svg));
  return page.format === 'jpeg' ? image.jpeg({ quality: 90 }).toBuffer() : image.png().toBuffer();
}
