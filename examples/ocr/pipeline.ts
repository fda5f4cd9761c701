/**
 * The OCR pipeline in one process: det → crop → rec with the nodes' own functions and two
 * onnxruntime-node sessions opened as the server opens them, no server and no framing between the
 * steps. Settings come from the nodes' model-config.yaml files, as when served. It is the
 * in-process baseline the served workflow is measured against.
 *
 *     node examples/ocr/dist/pipeline.js [image.png] [--runs N] [--set rec.maxBatch=4 ...]
 *
 * prints the lines of the image and the median wall and CPU time of each step over N runs (after 3
 * warm-up runs); `--set` changes one setting of a node's model-config.yaml for the run.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openSession, readOnnxOptions } from '@model-server/sdk';
import { parse } from 'yaml';
import type { InferenceSession } from 'onnxruntime-node';
import { cropBoxes } from './src/crop-node.js';
import { detectionBoxes, prepareDetection } from './src/det-node.js';
import { charsetFromDictionary } from './src/dictionary.js';
import { checkImage, decodeRgb, ensureEngine } from './src/image-source.js';
import { DET_MODEL_FILE, DICTIONARY_FILE, exampleDir, modelAsset, REC_MODEL_FILE } from './src/model-files.js';
import { CROP_DEFAULTS, DET_DEFAULTS, readOptions, REC_DEFAULTS, type CropOptions, type DetOptions, type RecOptions } from './src/options.js';
import { ocrLines, recognise } from './src/rec-node.js';
import { sessionRunner, type SessionRunner } from './src/session-runner.js';
import type { OcrLine } from './src/types.js';

export type { OcrLine } from './src/types.js';

/** Milliseconds spent in each step of one image. */
export interface StepTimes {
  /** Decode and resize, the detector's run, DB post-processing and reading order. */
  readonly detMs: number;
  /** Decode at full size and one perspective crop per box. */
  readonly cropMs: number;
  /** Line batches, the recogniser's runs and CTC decoding. */
  readonly recMs: number;
}

/** Changes to the settings of the model-config.yaml files, per node. */
export interface PipelineOptions {
  readonly det?: Partial<DetOptions>;
  readonly crop?: Partial<CropOptions>;
  readonly rec?: Partial<RecOptions>;
}

export class OcrPipeline {
  private readonly runDet: SessionRunner;
  private readonly runRec: SessionRunner;

  private constructor(
    private readonly det: InferenceSession,
    private readonly rec: InferenceSession,
    private readonly charset: string[],
    readonly options: { det: DetOptions; crop: CropOptions; rec: RecOptions },
  ) {
    this.runDet = sessionRunner(det);
    this.runRec = sessionRunner(rec);
  }

  /**
   * Opens both sessions on the npm package's model files, as the server opens them (the SDK's
   * `openSession` with each model's `onnx:` settings).
   */
  static async create(options: PipelineOptions = {}): Promise<OcrPipeline> {
    const [detConfig, cropConfig, recConfig] = await Promise.all(['det', 'crop', 'rec'].map(modelConfig));
    const [det, rec, dictionary] = await Promise.all([
      openSession(modelAsset(DET_MODEL_FILE), readOnnxOptions(detConfig!)),
      openSession(modelAsset(REC_MODEL_FILE), readOnnxOptions(recConfig!)),
      readFile(modelAsset(DICTIONARY_FILE), 'utf8'),
    ]);
    const section = (config: Record<string, unknown>): Record<string, unknown> => (config['handler'] ?? {}) as Record<string, unknown>;
    const resolved = {
      det: readOptions(readOptions(DET_DEFAULTS, section(detConfig!)), options.det ?? {}),
      crop: readOptions(readOptions(CROP_DEFAULTS, section(cropConfig!)), options.crop ?? {}),
      rec: readOptions(readOptions(REC_DEFAULTS, section(recConfig!)), options.rec ?? {}),
    };
    await Promise.all([ensureEngine(resolved.det.engine), ensureEngine(resolved.crop.engine)]);
    return new OcrPipeline(det, rec, charsetFromDictionary(dictionary), resolved);
  }

  /**
   * The lines of one PNG or JPEG, in reading order, with the wall time of each step and the CPU
   * time the process spent in it (all threads: ONNX Runtime's and libvips' count too). On a busy
   * machine the wall time grows and the CPU time hardly does.
   */
  async run(image: Uint8Array): Promise<{ lines: OcrLine[]; times: StepTimes; cpu: StepTimes }> {
    const marks = [mark()];
    const input = await prepareDetection(image, this.options.det);
    const boxes = detectionBoxes((await this.runDet(input.tensor, input.dims)).data, input, this.options.det);
    marks.push(mark());
    checkImage(image, this.options.crop.maxImagePixels);
    const crops = boxes.length === 0 ? [] : cropBoxes(await decodeRgb(image, this.options.crop.engine), boxes, this.options.crop.maxLineHeight);
    marks.push(mark());
    const results = await recognise(crops.map((c) => c.image), this.runRec, this.charset, this.options.rec);
    const lines = ocrLines(crops, results, this.options.rec.minConfidence);
    marks.push(mark());
    const steps = (k: 'wall' | 'cpu'): StepTimes => ({ detMs: marks[1]![k] - marks[0]![k], cropMs: marks[2]![k] - marks[1]![k], recMs: marks[3]![k] - marks[2]![k] });
    return { lines, times: steps('wall'), cpu: steps('cpu') };
  }

  async close(): Promise<void> {
    await Promise.all([this.det.release(), this.rec.release()]);
  }
}

/** Now, in wall-clock and process CPU milliseconds. */
function mark(): { wall: number; cpu: number } {
  const { user, system } = process.cpuUsage();
  return { wall: performance.now(), cpu: (user + system) / 1000 };
}

/** A node's model-config.yaml, parsed. */
async function modelConfig(node: string): Promise<Record<string, unknown>> {
  const file = join(exampleDir(), node, 'model-config.yaml');
  return (parse(await readFile(file, 'utf8')) ?? {}) as Record<string, unknown>;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `--set rec.maxBatch=4`: one setting of one node, over its model-config.yaml. */
function setting(arg: string, options: Record<string, Record<string, unknown>>): void {
  const m = /^(det|crop|rec)\.(\w+)=(.*)$/.exec(arg);
  if (!m) throw new Error(`--set takes node.key=value with node det, crop or rec (got ${arg})`);
  const value = Number.isNaN(Number(m[3])) ? m[3] : Number(m[3]);
  (options[m[1]!] ??= {})[m[2]!] = value;
}

async function main(argv: string[]): Promise<void> {
  let runs = 20;
  let file = join(exampleDir(), 'samples', 'invoice.png');
  const options: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--set') setting(argv[++i] ?? '', options);
    else file = argv[i]!;
  }
  const image = await readFile(file);
  const pipeline = await OcrPipeline.create(options as PipelineOptions);
  try {
    let first = await pipeline.run(image);
    for (let i = 0; i < 2; i++) first = await pipeline.run(image);
    const wall: StepTimes[] = [];
    const cpu: StepTimes[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await pipeline.run(image);
      wall.push(r.times);
      cpu.push(r.cpu);
    }
    const medians = (all: StepTimes[]): Record<string, number> => {
      const m = (f: (t: StepTimes) => number): number => Math.round(median(all.map(f)) * 10) / 10;
      return { det: m((t) => t.detMs), crop: m((t) => t.cropMs), rec: m((t) => t.recMs), total: m((t) => t.detMs + t.cropMs + t.recMs) };
    };
    console.log(JSON.stringify({ image: file, lines: first.lines.map((l) => l.text), runs, medianMs: medians(wall), medianCpuMs: medians(cpu) }, null, 2));
  } finally {
    await pipeline.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
