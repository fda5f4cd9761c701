import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OcrLine } from '../examples/ocr/pipeline.js';
import { mgmt } from './helpers/management.js';
import { mapConcurrently } from './helpers/concurrently.js';
import { inProcessLines } from './helpers/ocr-pipeline.js';
import { ROOT, tempDir } from './helpers/models.js';
import { OCR_CORPUS } from './helpers/ocr-corpus.js';
import { scoreAnswers } from './helpers/ocr-score.js';
import { startServer, type TestServer } from './helpers/server.js';
import { renderPage } from './helpers/text-images.js';

const SAMPLE = join(ROOT, 'examples', 'ocr', 'samples', 'invoice.png');
const pages = await Promise.all(OCR_CORPUS.map(async (page) => ({ page, bytes: await renderPage(page) })));
const noSpaces = (s: string): string => s.replace(/\s+/g, '');

let server: TestServer;

beforeAll(async () => {
  // The workflow exactly as it ships: built by the examples' build script with the workflow-archiver.
  const store = await tempDir('ms-ocr-models-');
  const workflows = await tempDir('ms-ocr-workflows-');
  const built = await execa(process.execPath, [join(ROOT, 'scripts', 'build-examples.mjs'), store, workflows], { reject: false });
  expect(built.exitCode, built.stderr).toBe(0);
  server = await startServer({ store, models: [], config: { enable_model_api: true, workflow_store: workflows } });
  const reg = await mgmt(server.management, 'POST', '/workflows?url=ocr.war');
  expect(reg.status, reg.text).toBe(200);
});
afterAll(() => server?.stop());

async function ocr(image: Uint8Array): Promise<OcrLine[]> {
  const res = await fetch(`${server.url}/wfpredict/ocr`, { method: 'POST', body: image, headers: { 'content-type': 'image/png' } });
  expect(res.status, res.status === 200 ? '' : await res.clone().text()).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  return ((await res.json()) as { lines: OcrLine[] }).lines;
}

/** The largest batch a node's model ran (its Triton statistics). */
async function largestBatch(model: string): Promise<number> {
  const stats = (await (await fetch(`${server.url}/v2/models/${model}/stats`)).json()) as { model_stats: { batch_stats: { batch_size: number }[] }[] };
  return Math.max(0, ...stats.model_stats[0]!.batch_stats.map((b) => b.batch_size));
}

describe('OCR as a workflow: det model -> crop function -> rec model through /wfpredict/ocr', () => {
  it('serves its three nodes as models ocr__det, ocr__crop and ocr__rec', async () => {
    const models = (await mgmt(server.management, 'GET', '/models')).json.models.map((m: { modelName: string }) => m.modelName);
    expect(models).toEqual(['ocr__crop', 'ocr__det', 'ocr__rec']);
    const [described] = (await mgmt(server.management, 'GET', '/workflows/ocr')).json;
    expect(described.workflowDag).toEqual({ det: ['crop'], crop: ['rec'], rec: [] });
    // det and rec keep their archives' batch sizes (the spec leaves them out).
    expect(described.nodes.map((n: { name: string; type: string; batchSize: number }) => [n.name, n.type, n.batchSize])).toEqual([
      ['det', 'model', 2],
      ['crop', 'function', 1],
      ['rec', 'model', 8],
    ]);
  });

  it('reads the sample invoice exactly as the in-process pipeline does', async () => {
    const image = await readFile(SAMPLE);
    const served = await ocr(image);
    expect(served).toEqual(await inProcessLines(image));
    const expected = (await readFile(join(ROOT, 'examples', 'ocr', 'samples', 'invoice.txt'), 'utf8')).trim().split('\n');
    expect(served.map((l) => noSpaces(l.text))).toEqual(expected.map(noSpaces));
  });

  it('reads rendered DejaVu pages with at most 3% CER and 90% of lines exact, four requests at a time, batching at the nodes', async () => {
    const answers = await mapConcurrently(pages, 4, (p) => ocr(p.bytes));
    const summary = scoreAnswers(pages.map(({ page }) => page), answers);
    const batches = { det: await largestBatch('ocr__det'), rec: await largestBatch('ocr__rec') };
    console.log(
      `workflow: ${summary.lines} lines, ${summary.chars} characters, CER ${(summary.cer * 100).toFixed(2)}%, ${(summary.exact * 100).toFixed(1)}% exact; ` +
        `largest batch det ${batches.det}, rec ${batches.rec}; misread: ${summary.misread.join('; ') || 'none'}`,
    );
    expect(summary.lines).toBeGreaterThanOrEqual(30);
    expect(summary.cer).toBeLessThanOrEqual(0.03);
    expect(summary.exact).toBeGreaterThanOrEqual(0.9);
    // The recogniser is the slowest node: requests queue there and leave together.
    expect(batches.rec).toBeGreaterThan(1);
  });

  it('fails a bad image at the det node with its 400 and message, naming the node', async () => {
    const res = await fetch(`${server.url}/wfpredict/ocr`, { method: 'POST', body: 'not an image' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 400,
      type: 'WorkflowException',
      errorCode: 'WORKFLOW_NODE_FAILED',
      message: 'Workflow ocr: node det failed after 1 attempt(s): Input is not a PNG or JPEG image',
    });
  });
});
