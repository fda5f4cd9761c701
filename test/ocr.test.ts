import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createArchive } from '@model-server/model-archiver';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OcrPipeline, type OcrLine } from '../examples/ocr/pipeline.js';
import { DET_MODEL_FILE, DICTIONARY_FILE, modelAsset, REC_MODEL_FILE } from '../examples/ocr/src/model-files.js';
import { mapConcurrently } from './helpers/concurrently.js';
import { inProcessLines } from './helpers/ocr-pipeline.js';
import { ROOT, tempDir } from './helpers/models.js';
import { OCR_CORPUS } from './helpers/ocr-corpus.js';
import { scoreAnswers } from './helpers/ocr-score.js';
import { startServer, type TestServer } from './helpers/server.js';
import { renderPage } from './helpers/text-images.js';

const EXAMPLE = join(ROOT, 'examples', 'ocr');
const SAMPLE = join(EXAMPLE, 'samples', 'invoice.png');
/** The det model of this test refuses images over a megapixel, to test the limit cheaply. */
const TEST_MAX_PIXELS = 1_000_000;

const pages = await Promise.all(OCR_CORPUS.map(async (page) => ({ page, bytes: await renderPage(page) })));
const sampleText = (await readFile(join(EXAMPLE, 'samples', 'invoice.txt'), 'utf8')).trim().split('\n');
const noSpaces = (s: string): string => s.replace(/\s+/g, '');

/** Scores every page's answer and checks the bar: at most 3% CER and at least 90% of lines exact, over 30 lines or more. */
function checkAccuracy(label: string, answers: readonly (readonly OcrLine[])[]): void {
  const summary = scoreAnswers(pages.map(({ page }) => page), answers);
  console.log(`${label}: ${summary.lines} lines, ${summary.chars} characters, CER ${(summary.cer * 100).toFixed(2)}%, ${(summary.exact * 100).toFixed(1)}% exact; misread: ${summary.misread.join('; ') || 'none'}`);
  expect(summary.lines).toBeGreaterThanOrEqual(30);
  expect(summary.cer).toBeLessThanOrEqual(0.03);
  expect(summary.exact).toBeGreaterThanOrEqual(0.9);
}

describe('OCR in one process (the pipeline)', () => {
  let pipeline: OcrPipeline;
  beforeAll(async () => {
    pipeline = await OcrPipeline.create();
  });
  afterAll(() => pipeline?.close());

  it('reads the sample invoice line by line in reading order', async () => {
    const { lines, times } = await pipeline.run(await readFile(SAMPLE));
    expect(lines.map((l) => noSpaces(l.text))).toEqual(sampleText.map(noSpaces));
    for (const l of lines) expect(l.confidence).toBeGreaterThan(0.5);
    expect(times.detMs).toBeGreaterThan(0);
  });

  it('reads rendered DejaVu text in several fonts, sizes and layouts with at most 3% CER', async () => {
    const answers: OcrLine[][] = [];
    for (const { bytes } of pages) answers.push((await pipeline.run(bytes)).lines);
    checkAccuracy('in-process', answers);
  });

  it('reads text on a transparent background, and 16-bit greyscale, as black on white', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="420" height="60"><text x="16" y="40" font-family="DejaVu Sans" font-size="26">Transparent 2025</text></svg>');
    const transparent = await sharp(svg).png().toBuffer();
    expect((await sharp(transparent).metadata()).hasAlpha).toBe(true);
    const grey16 = await sharp(svg).flatten({ background: '#ffffff' }).greyscale().toColourspace('grey16').png().toBuffer();
    expect((await sharp(grey16).metadata()).depth).toBe('ushort');
    for (const image of [transparent, grey16]) expect((await pipeline.run(image)).lines.map((l) => noSpaces(l.text))).toEqual(['Transparent2025']);
  });

  it('reads the same with the pure-JS image path as with sharp (up to spaces: boxes differ by a pixel)', async () => {
    const js = await OcrPipeline.create({ det: { engine: 'js' }, crop: { engine: 'js' } });
    try {
      for (const { bytes } of pages.slice(0, 6)) {
        const read = async (p: OcrPipeline): Promise<string[]> => (await p.run(bytes)).lines.map((l) => noSpaces(l.text));
        expect(await read(js)).toEqual(await read(pipeline));
      }
    } finally {
      await js.close();
    }
  });

  it('answers no lines for a blank page', async () => {
    const blank = await sharp({ create: { width: 300, height: 100, channels: 3, background: '#ffffff' } }).png().toBuffer();
    expect((await pipeline.run(blank)).lines).toEqual([]);
  });
});

describe('OCR served: det model -> crop model -> rec model over /predictions', () => {
  let server: TestServer;
  let detBundle: string;

  beforeAll(async () => {
    const store = await tempDir();
    const configDir = await tempDir('ms-ocr-config-');
    const detConfig = join(configDir, 'model-config.yaml');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(detConfig, (await readFile(join(EXAMPLE, 'det', 'model-config.yaml'), 'utf8')).replace(/maxImagePixels: \d+/, `maxImagePixels: ${TEST_MAX_PIXELS}`));
    const archive = (name: string, dir: string, extra: Partial<Parameters<typeof createArchive>[0]>) =>
      createArchive({ modelName: name, version: '1.0', handler: join(EXAMPLE, dir, 'handler.ts'), configFile: join(EXAMPLE, dir, 'model-config.yaml'), exportPath: store, force: true, ...extra });
    const det = await archive('ocr_det', 'det', { serializedFile: modelAsset(DET_MODEL_FILE), configFile: detConfig });
    await archive('ocr_crop', 'crop', {});
    await archive('ocr_rec', 'rec', { serializedFile: modelAsset(REC_MODEL_FILE), extraFiles: [modelAsset(DICTIONARY_FILE)] });
    detBundle = new TextDecoder().decode(unzipSync(await readFile(det))['handler.js']);
    server = await startServer({ store, models: ['ocr_det.mar', 'ocr_crop.mar', 'ocr_rec.mar'] });
  });
  afterAll(() => server?.stop());

  const post = (model: string, body: Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/predictions/${model}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', ...headers } });

  /** One image through the three nodes, each node's answer being the next one's body. */
  async function ocr(image: Uint8Array): Promise<OcrLine[]> {
    let body: Uint8Array = image;
    for (const model of ['ocr_det', 'ocr_crop']) {
      const res = await post(model, body);
      expect(res.status, `${model}: ${res.status === 200 ? '' : await res.clone().text()}`).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      body = new Uint8Array(await res.arrayBuffer());
    }
    const res = await post('ocr_rec', body);
    expect(res.status).toBe(200);
    return ((await res.json()) as { lines: OcrLine[] }).lines;
  }

  it('bundles the det handler with sharp left external, and the worker loads sharp for it', async () => {
    expect(detBundle).toMatch(/import\(["']sharp["']\)/);
    expect(detBundle).not.toMatch(/libvips|sharp-linux/);
    // The det model is set to `engine: sharp`: it would not have loaded without it.
    const res = await post('ocr_det', await readFile(SAMPLE), { accept: 'application/json' });
    expect(res.status).toBe(200);
  });

  it('reads the sample invoice as the in-process pipeline does', async () => {
    const image = await readFile(SAMPLE);
    const served = await ocr(image);
    expect(served).toEqual(await inProcessLines(image));
    expect(served.map((l) => noSpaces(l.text))).toEqual(sampleText.map(noSpaces));
  });

  it('reads the rendered pages with at most 3% CER, four at a time', async () => {
    const answers = await mapConcurrently(pages, 4, (p) => ocr(p.bytes));
    checkAccuracy('served', answers);
  });

  it('answers the boxes as JSON when asked, in source image coordinates', async () => {
    const res = await post('ocr_det', await readFile(SAMPLE), { accept: 'application/json' });
    const body = (await res.json()) as { width: number; height: number; boxes: { box: number[][]; score: number }[] };
    expect([body.width, body.height]).toEqual([560, 300]);
    expect(body.boxes).toHaveLength(sampleText.length);
    for (const b of body.boxes) {
      expect(b.score).toBeGreaterThan(0.6);
      for (const [x, y] of b.box) expect(x! >= 0 && x! < 560 && y! >= 0 && y! < 300).toBe(true);
    }
  });

  it('answers same-size images stacked in one detector run as it answers each alone', async () => {
    const page = (text: string, y: number) => renderPage({ name: text, width: 400, height: 120, items: [{ text, x: 20, y, size: 24, font: 'DejaVu Sans' }] });
    const images = [await page('First page 111', 40), await page('Second 2222', 90)];
    const json = { accept: 'application/json' };
    const alone = await Promise.all(images.map(async (image) => (await post('ocr_det', image, json)).json()));
    expect(alone[0]).not.toEqual(alone[1]);
    // Six at once: while the worker runs one, the rest queue and go in batches of two (batchSize 2).
    const together = await Promise.all(Array.from({ length: 6 }, async (_, i) => (await post('ocr_det', images[i % 2]!, json)).json()));
    together.forEach((answer, i) => expect(answer).toEqual(alone[i % 2]));
  });

  it('refuses a bad image alone: its batch-mate is still answered', async () => {
    const [bad, good] = await Promise.all([post('ocr_det', new TextEncoder().encode('not an image')), post('ocr_det', await readFile(SAMPLE))]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toBe('Input is not a PNG or JPEG image');
    expect(good.status).toBe(200);
  });

  it('refuses an image over the configured pixel limit with 413, before decoding it', async () => {
    const big = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const res = await post('ocr_det', big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { message: string }).message).toBe(`Image of 1200x1000 pixels is over the limit of ${TEST_MAX_PIXELS} pixels (maxImagePixels)`);
  });

  it('refuses input meant for another node with a 400 that names the expected input', async () => {
    const crop = await post('ocr_crop', await readFile(SAMPLE));
    expect(crop.status).toBe(400);
    expect(((await crop.json()) as { message: string }).message).toBe('Input is not the OCR det node output (no OCR1 frame)');
    const det = new Uint8Array(await (await post('ocr_det', await readFile(SAMPLE))).arrayBuffer());
    const rec = await post('ocr_rec', det);
    expect(rec.status).toBe(400);
    expect(((await rec.json()) as { message: string }).message).toBe('Input is not the OCR crop node output (kind is "ocr.det", expected "ocr.crops")');
  });

  it("reports the det model's signature as the ONNX session has it", async () => {
    const meta = (await (await fetch(`${server.url}/v2/models/ocr_det`)).json()) as { inputs: { name: string; shape: number[] }[] };
    expect(meta.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }]);
  });
});
