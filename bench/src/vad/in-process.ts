/**
 * The vad example's handler run in this process, as a worker would run it but without the worker: the
 * handler bundled as the archiver does (so its imports resolve as in an archive), a Context for one
 * batch at a time. Used by the suite's in-process limit for the VAD and by scripts/bench-vad.mjs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { HandlerRequest, MetricsRecorder, type Context, type Handler, type Manifest, type ResponseSettings } from '@model-server/sdk';
import { PROVIDED_PACKAGES } from '@model-server/model-archiver';
import { REPO_ROOT } from '../paths.js';

export const VAD_HANDLER = join(REPO_ROOT, 'examples', 'vad', 'handler.ts');
export const VAD_MODEL_DIR = join(REPO_ROOT, 'node_modules', '@ricky0123', 'vad-node', 'dist');
export const VAD_ONNX = join(VAD_MODEL_DIR, 'silero_vad.onnx');

/** Bundles the handler next to node_modules (so the SDK and onnxruntime-node resolve) and imports it. */
export async function loadVadHandler(): Promise<new () => Handler> {
  const out = await mkdtemp(join(REPO_ROOT, 'node_modules', '.vad-bench-'));
  try {
    await build({
      entryPoints: [VAD_HANDLER],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: join(out, 'handler.mjs'),
      external: PROVIDED_PACKAGES,
      logLevel: 'warning',
    });
    const module = (await import(pathToFileURL(join(out, 'handler.mjs')).href)) as { default: new () => Handler };
    return module.default;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

const NEVER: AbortSignal = new AbortController().signal;
const flag = (v: string | undefined): boolean => v === 'true';

/** The part of the worker's Context the vad handler uses, pointed at one batch at a time (`begin`). */
export class VadBenchContext implements Context {
  readonly modelName = 'vad';
  readonly modelVersion = '1.0';
  readonly modelDir = VAD_MODEL_DIR;
  readonly manifest: Manifest = { runtime: 'node', model: { modelName: 'vad', modelVersion: '1.0', handler: 'handler.js', serializedFile: 'silero_vad.onnx' } };
  readonly modelConfig: Readonly<Record<string, unknown>>;
  readonly metrics = new MetricsRecorder();
  readonly isExplain = false;
  readonly signal: AbortSignal = NEVER;
  requestIds: readonly string[] = [];
  requestHeaders: readonly Readonly<Record<string, string>>[] = [];
  private responses: ResponseSettings[] = [];

  constructor(
    readonly handlerConfig: Readonly<Record<string, unknown>>,
    readonly batchSize: number,
  ) {
    this.modelConfig = { onnx: { intraOpNumThreads: 1 }, handler: handlerConfig };
  }

  begin(requests: readonly HandlerRequest[]): void {
    this.requestIds = requests.map((r) => r.id);
    this.requestHeaders = requests.map((r) => r.headers);
    this.responses = requests.map(() => ({ status: 200, contentType: undefined, headers: {} }));
    this.metrics.drain();
  }

  /** Statuses of the batch that ran, by request. */
  statuses(): number[] {
    return this.responses.map((r) => r.status);
  }

  signalFor(): AbortSignal {
    return NEVER;
  }
  getRequestHeader(i: number, name: string): string | undefined {
    return this.requestHeaders[i]?.[name.toLowerCase()];
  }
  setResponseStatus(status: number, i?: number): void {
    this.responses.forEach((r, k) => {
      if (i === undefined || i === k) r.status = status;
    });
  }
  setResponseContentType(i: number, type: string): void {
    this.responses[i]!.contentType = type;
  }
  setResponseHeader(i: number, name: string, value: string): void {
    this.responses[i]!.headers[name] = value;
  }
  getResponseSettings(i: number): Readonly<ResponseSettings> {
    return this.responses[i]!;
  }
  sendIntermediate(): Promise<void> {
    return Promise.reject(new Error('not used by the vad handler'));
  }
  sequenceIdFor(i: number): string | undefined {
    return this.getRequestHeader(i, 'ts_request_sequence_id') || undefined;
  }
  isSequenceStart(i: number): boolean {
    return flag(this.getRequestHeader(i, 'ts_request_sequence_start'));
  }
  isSequenceEnd(i: number): boolean {
    return flag(this.getRequestHeader(i, 'ts_request_sequence_end'));
  }
  endSequence(i: number): void {
    this.setResponseHeader(i, 'ts_request_sequence_end', 'true');
  }
}

let requestNo = 0;

/** Chunk `body` of sequence `seq` as the worker would hand it to the handler. */
export function vadRequest(seq: number, body: Uint8Array, first: boolean): HandlerRequest {
  const headers = { ts_request_sequence_id: `seq-${seq}`, ts_request_sequence_start: first ? 'true' : 'false', ts_request_sequence_end: 'false' };
  return new HandlerRequest(`r${requestNo++}`, headers, [{ name: 'body', contentType: 'application/octet-stream', data: body }]);
}
