import type { MetricsRecorder } from './metrics.js';

/** The archive's MAR-INF/MANIFEST.json, TorchServe's field names. */
export interface Manifest {
  createdOn?: string;
  runtime: string;
  model: {
    modelName: string;
    modelVersion: string;
    serializedFile?: string;
    handler: string;
    configFile?: string;
    [key: string]: unknown;
  };
  archiverVersion?: string;
  [key: string]: unknown;
}

/** What a handler sees of the per-request response it is building. */
export interface ResponseSettings {
  status: number;
  contentType: string | undefined;
  headers: Record<string, string>;
}

/**
 * Everything a handler knows about its model and the batch it is running. One Context is created at
 * load time (for `initialize`); the request fields change with each batch.
 */
export interface Context {
  readonly modelName: string;
  readonly modelVersion: string;
  /** Folder where the archive's files are (the serialized model, extra files). */
  readonly modelDir: string;
  readonly manifest: Manifest;
  /** The whole parsed model-config.yaml. */
  readonly modelConfig: Readonly<Record<string, unknown>>;
  /** The free-form `handler:` section of model-config.yaml (empty when absent). */
  readonly handlerConfig: Readonly<Record<string, unknown>>;
  /** Largest batch the gateway will send. */
  readonly batchSize: number;
  /** Ids of the requests of the current batch, by position. */
  readonly requestIds: readonly string[];
  /** Headers (lower-case names) of the requests of the current batch, by position. */
  readonly requestHeaders: readonly Readonly<Record<string, string>>[];
  /** True while the batch runs the explanation path (`/explanations`, `:explain`). */
  readonly isExplain: boolean;
  /** Aborted once every request of the batch is cancelled (client gone, deadline passed, unregister). */
  readonly signal: AbortSignal;
  readonly metrics: MetricsRecorder;

  /** Aborted when request `idx` is cancelled. */
  signalFor(idx: number): AbortSignal;
  getRequestHeader(idx: number, name: string): string | undefined;
  /** Sets the HTTP status of request `idx`, or of every request when `idx` is omitted. */
  setResponseStatus(status: number, idx?: number): void;
  setResponseContentType(idx: number, contentType: string): void;
  setResponseHeader(idx: number, name: string, value: string): void;
  getResponseSettings(idx: number): Readonly<ResponseSettings>;
  /**
   * Sends one partial result per request of the batch (use `undefined` to skip a request). The promise
   * settles once the gateway has room for more, so awaiting it is how a streaming handler respects a
   * slow client. Rejects when the request was cancelled.
   */
  sendIntermediate(outputs: readonly unknown[]): Promise<void>;
  /**
   * The sequence request `idx` belongs to, for a stateful model (sequenceBatching): the gateway sends
   * every request of a sequence to this worker, one at a time, in order. Undefined outside a sequence.
   */
  sequenceIdFor(idx: number): string | undefined;
  /** Request `idx` is the first of its sequence: start from a fresh state (drop any kept under its id). */
  isSequenceStart(idx: number): boolean;
  /** Request `idx` is the last of its sequence (the client said so); `endSequence` follows. */
  isSequenceEnd(idx: number): boolean;
  /**
   * Ends request `idx`'s sequence with its answer: the gateway takes no more requests for it, and
   * the handler's `endSequence` hook follows. Sets the response header `ts_request_sequence_end`.
   */
  endSequence(idx: number): void;
}

/** TorchServe's free-function spelling of {@link Context.sendIntermediate}. */
export function sendIntermediatePredictResponse(outputs: readonly unknown[], context: Context): Promise<void> {
  return context.sendIntermediate(outputs);
}
