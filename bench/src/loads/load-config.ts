import type { WindowPlan } from '../windows.js';

/** One request a load generator sends; every connection cycles through the list. */
export interface RequestSpec {
  path: string;
  contentType: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  body: Uint8Array;
}

/** autocannon, closed loop (`connections` requests in flight) unless `rate` asks for an open loop. */
export interface HttpLoadConfig {
  kind: 'http';
  url: string;
  connections: number;
  requests: RequestSpec[];
  plan: WindowPlan;
  /** Requests per second over all connections (autocannon's overallRate), instead of a closed loop. */
  rate?: number;
}

/** Closed-loop streaming client: time to first body byte, and chunks (lines) per second. */
export interface StreamLoadConfig {
  kind: 'stream';
  url: string;
  connections: number;
  request: RequestSpec;
  plan: WindowPlan;
}

/** grpc-js, closed loop: `concurrency` unary calls in flight on one channel, requests already serialized. */
export interface GrpcLoadConfig {
  kind: 'grpc';
  /** `host:port`. */
  address: string;
  concurrency: number;
  /** Full method path, `/<package>.<Service>/<Rpc>`. */
  method: string;
  requests: Uint8Array[];
  plan: WindowPlan;
}

/** The limit: the model run in-process by onnxruntime-node, one batch after another, no HTTP. */
export interface LimitLoadConfig {
  kind: 'limit';
  modelPath: string;
  intraOpNumThreads: number;
  batchSize: number;
  inputName: string;
  /**
   * `tensor`: payloads are rows of float32 (little-endian bytes), stacked before the run starts, so
   * only session runs are timed. `mnist-png`: payloads are PNGs, decoded per run as the handler does.
   */
  input: 'tensor' | 'mnist-png';
  payloads: Uint8Array[];
  plan: WindowPlan;
}

/**
 * Closed-loop stateful sequences: `connections` clients, each streaming its own sequence of audio
 * chunks (TorchServe's sequence headers), the next chunk once the previous one is answered.
 */
export interface SequenceLoadConfig {
  kind: 'sequence';
  url: string;
  /** Path of the model's predictions route. */
  path: string;
  connections: number;
  chunkMs: number;
  plan: WindowPlan;
}

/** The VAD's limit: its handler run in-process, one chunk of each of `sequences` sequences per batch. */
export interface VadLimitLoadConfig {
  kind: 'vad-limit';
  sequences: number;
  chunkMs: number;
  plan: WindowPlan;
}

/** The OCR pipeline in the load process itself: `connections` images in flight, one pipeline (examples/ocr). */
export interface PipelineLoadConfig {
  kind: 'pipeline';
  connections: number;
  /** PNG or JPEG images, cycled through. */
  images: Uint8Array[];
  plan: WindowPlan;
}

export type LoadConfig = HttpLoadConfig | StreamLoadConfig | GrpcLoadConfig | LimitLoadConfig | SequenceLoadConfig | VadLimitLoadConfig | PipelineLoadConfig;
