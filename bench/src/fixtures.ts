import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createArchive } from '@model-server/model-archiver';
import { REPO_ROOT } from './paths.js';
import type { ModelSettings, Suite, WorkloadId } from './suite.js';
import { VAD_HANDLER, VAD_ONNX } from './vad/in-process.js';

export const MNIST_ONNX = join(REPO_ROOT, 'examples', 'mnist', 'mnist.onnx');
export const HEAVY_ONNX = join(REPO_ROOT, 'examples', 'heavy', 'heavy.onnx');
const HEAVY_FEATURES = 512;

interface ModelSource {
  handler: string;
  serializedFile?: string;
}

/** The workloads served by one model archive each (OCR is a workflow: buildWorkflows). */
type ModelWorkload = Exclude<WorkloadId, 'ocr'>;

const SOURCES: Record<ModelWorkload, ModelSource> = {
  noop: { handler: join(REPO_ROOT, 'bench', 'handlers', 'noop.ts') },
  mnist: { handler: join(REPO_ROOT, 'examples', 'mnist', 'handler.ts'), serializedFile: MNIST_ONNX },
  heavy: { handler: join(REPO_ROOT, 'bench', 'handlers', 'heavy.ts'), serializedFile: HEAVY_ONNX },
  stream: { handler: join(REPO_ROOT, 'bench', 'handlers', 'stream.ts') },
  'mnist-tensor': { handler: join(REPO_ROOT, 'examples', 'mnist', 'handler.ts'), serializedFile: MNIST_ONNX },
  vad: { handler: VAD_HANDLER, serializedFile: VAD_ONNX },
};

function configYaml(settings: ModelSettings): string {
  return [
    `minWorkers: ${settings.workers}`,
    `maxWorkers: ${settings.workers}`,
    `batchSize: ${settings.batchSize}`,
    `maxBatchDelay: ${settings.maxBatchDelay}`,
    'responseTimeout: 60',
    'onnx:',
    `  intraOpNumThreads: ${settings.intraOpNumThreads}`,
    settings.extra ?? '',
  ].join('\n');
}

/** heavy.onnx is generated, not committed: make it when missing, as the README says to. */
export function ensureHeavyModel(): void {
  if (!existsSync(HEAVY_ONNX)) execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'gen-models.mjs')], { stdio: 'inherit' });
}

/**
 * Builds one .mar per workload into `store` with the project's own archiver (the gateway unpacks
 * .mar files itself, so its memory figures include what a real deployment pays). Returns the
 * `--models` specs.
 */
export async function buildArchives(suite: Suite, store: string): Promise<string[]> {
  await mkdir(store, { recursive: true });
  const specs: string[] = [];
  for (const workload of suite.workloads) {
    const id = workload.id;
    if (id === 'ocr') continue;
    const settings = id === 'stream' ? { ...suite.models[id], extra: `handler:\n  chunks: ${suite.streamChunks}` } : suite.models[id];
    const configFile = join(store, `${id}-model-config.yaml`);
    await writeFile(configFile, configYaml(settings));
    await createArchive({
      modelName: id,
      version: '1.0',
      handler: SOURCES[id].handler,
      serializedFile: SOURCES[id].serializedFile,
      configFile,
      exportPath: store,
      archiveFormat: 'default',
      force: true,
    });
    specs.push(`${id}=${id}.mar`);
  }
  return specs;
}

/**
 * The workflows of the suite's workloads, built into `store` (the gateway's workflow store too) exactly
 * as they ship: by scripts/build-examples.mjs with the workflow-archiver. Returns the `--workflows` specs.
 */
export async function buildWorkflows(suite: Suite, store: string): Promise<string[]> {
  if (!suite.workloads.some((w) => w.id === 'ocr')) return [];
  const models = await mkdtemp(join(tmpdir(), 'ms-bench-examples-'));
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-examples.mjs'), models, store], { stdio: 'ignore' });
  } finally {
    await rm(models, { recursive: true, force: true });
  }
  return ['ocr=ocr.war'];
}

/** The sample image the OCR workload sends (examples/ocr/samples/invoice.png: 560x300, nine lines). */
export async function ocrImages(): Promise<Uint8Array[]> {
  return [await readFile(join(REPO_ROOT, 'examples', 'ocr', 'samples', 'invoice.png'))];
}

/** Size of the model file a workload's worker loads (0 for handlers without one, and for workflows). */
export async function modelBytes(id: WorkloadId): Promise<number> {
  const file = id === 'ocr' ? undefined : SOURCES[id].serializedFile;
  return file ? (await stat(file)).size : 0;
}

interface MnistSplit {
  heldOutSet(): readonly { pixels: Float32Array; label: number }[];
  toPngBuffer(pixels: ArrayLike<number>): Buffer;
}

/** `count` real digit PNGs from the held-out split, digits interleaved so every batch is mixed. */
export async function mnistPngs(count: number): Promise<Uint8Array[]> {
  const split = (await import(join(REPO_ROOT, 'scripts', 'lib', 'mnist-split.mjs'))) as MnistSplit;
  const samples = split.heldOutSet();
  const byDigit = Array.from({ length: 10 }, (_, d) => samples.filter((s) => s.label === d));
  const out: Uint8Array[] = [];
  for (let i = 0; out.length < count; i++) {
    const digit = byDigit[i % 10]!;
    out.push(split.toPngBuffer(digit[Math.floor(i / 10) % digit.length]!.pixels));
  }
  return out;
}

/** `count` heavy-model inputs: 512 float32 each, as little-endian bytes (the request body format). */
export function heavyRows(count: number): Uint8Array[] {
  let seed = 0x5eed;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  return Array.from({ length: count }, () => {
    const row = new Float32Array(HEAVY_FEATURES);
    for (let i = 0; i < row.length; i++) row[i] = next();
    return new Uint8Array(row.buffer);
  });
}
