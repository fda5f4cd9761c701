import type { Message } from '../ipc.js';

/** Sent by every server target once it listens. */
export interface ReadyMessage extends Message {
  type: 'ready';
  url: string;
  /** Our gateway's gRPC inference listener, `host:port`. */
  grpc?: string;
  pid: number;
  /** Our gateway's management API (for the status feed of `--dashboard`). */
  management?: string;
}

/** One worker process of our gateway. */
export interface WorkerPid {
  model: string;
  workerId: string;
  pid: number;
}

/** The gateway target's answer to `{type: 'pids'}`. */
export interface PidsMessage extends Message {
  type: 'pids';
  workers: WorkerPid[];
}

/** The gateway target's answer to `{type: 'stats'}`: batching counters per model (default version). */
export interface StatsMessage extends Message {
  type: 'stats';
  models: Record<string, { batches: number; batchedRequests: number }>;
}

/** Our gateway, started from code as test/helpers/server.ts does, on loopback port 0. */
export interface GatewayTargetConfig {
  /** config.properties keys (addresses, model_store, vmargs …), as CLI flags would give them. */
  overrides: Record<string, unknown>;
  /** `--models` specs, e.g. `noop=noop.mar`. */
  models: string[];
  /** `--workflows` specs, e.g. `ocr=ocr.war` (from the `workflow_store` of `overrides`). */
  workflows?: string[];
  logLevel: string;
}

/** "What a Node user writes": express and, for a model, one InferenceSession, one request at a time. */
export interface ExpressTargetConfig {
  model: 'noop' | 'mnist' | 'heavy';
  modelPath?: string;
  intraOpNumThreads: number;
}

/** The best single Node process: node:http, one session, in-process dynamic batching (heavy model). */
export interface NodeBatchedTargetConfig {
  modelPath: string;
  intraOpNumThreads: number;
  batchSize: number;
}

/** The floor HTTP parsing sets: node:http answering a constant (and a paced stream of lines). */
export interface BareTargetConfig {
  streamChunks: number;
}

/** A bare gRPC server (the gRPC floor): grpc-js, or a minimal unary server straight on node:http2. */
export interface BareGrpcTargetConfig {
  implementation: 'grpc-js' | 'http2';
}
