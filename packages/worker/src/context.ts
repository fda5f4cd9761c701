import type { Context, Manifest, ResponseSettings } from '@model-server/sdk';
import { MetricsRecorder, allAborted } from '@model-server/sdk';
import { SEQUENCE_END_HEADER, SEQUENCE_ID_HEADER, SEQUENCE_START_HEADER, flagValue } from '@model-server/protocol/wire';
import type { BatchSignals } from './batch-signals.js';

export interface ModelInfo {
  modelName: string;
  modelVersion: string;
  modelDir: string;
  manifest: Manifest;
  modelConfig: Record<string, unknown>;
  batchSize: number;
}

/** Sends one batch's intermediate outputs; supplied by the runner for the batch being run. */
export type IntermediateSender = (outputs: readonly unknown[]) => Promise<void>;

const NEVER_ABORTED = new AbortController().signal;

/**
 * The worker's Context. One instance lives for the worker's life; `beginBatch` points it at the batch
 * being run, which is safe because a worker runs one batch at a time.
 */
export class WorkerContext implements Context {
  readonly metrics = new MetricsRecorder();
  readonly handlerConfig: Readonly<Record<string, unknown>>;
  requestIds: readonly string[] = [];
  requestHeaders: readonly Readonly<Record<string, string>>[] = [];
  isExplain = false;
  private signals: BatchSignals | undefined;
  private batchSignal: AbortSignal | undefined;
  private responses: ResponseSettings[] = [];
  private sender: IntermediateSender | undefined;

  constructor(private readonly info: ModelInfo) {
    const section = info.modelConfig['handler'];
    this.handlerConfig = section && typeof section === 'object' ? (section as Record<string, unknown>) : {};
  }

  get modelName(): string {
    return this.info.modelName;
  }
  get modelVersion(): string {
    return this.info.modelVersion;
  }
  get modelDir(): string {
    return this.info.modelDir;
  }
  get manifest(): Manifest {
    return this.info.manifest;
  }
  get modelConfig(): Readonly<Record<string, unknown>> {
    return this.info.modelConfig;
  }
  get batchSize(): number {
    return this.info.batchSize;
  }

  beginBatch(
    ids: string[],
    headers: Record<string, string>[],
    signals: BatchSignals,
    isExplain: boolean,
    sender: IntermediateSender,
  ): void {
    this.requestIds = ids;
    this.requestHeaders = headers;
    this.signals = signals;
    this.batchSignal = undefined;
    this.isExplain = isExplain;
    this.sender = sender;
    this.responses = ids.map(() => ({ status: 200, contentType: undefined, headers: {} }));
  }

  endBatch(): void {
    this.sender = undefined;
  }

  /** Aborted once every request of the batch is cancelled; built on first use. */
  get signal(): AbortSignal {
    if (!this.signals) return NEVER_ABORTED;
    return (this.batchSignal ??= allAborted(this.signals.all()));
  }

  signalFor(idx: number): AbortSignal {
    const signals = this.signals;
    return signals && Number.isInteger(idx) && idx >= 0 && idx < signals.size ? signals.signal(idx) : NEVER_ABORTED;
  }

  getRequestHeader(idx: number, name: string): string | undefined {
    return this.requestHeaders[idx]?.[name.toLowerCase()];
  }

  setResponseStatus(status: number, idx?: number): void {
    if (!Number.isInteger(status) || status < 100 || status > 599) throw new RangeError(`invalid HTTP status ${status}`);
    if (idx === undefined) for (const r of this.responses) r.status = status;
    else this.at(idx).status = status;
  }

  setResponseContentType(idx: number, contentType: string): void {
    this.at(idx).contentType = contentType;
  }

  setResponseHeader(idx: number, name: string, value: string): void {
    this.at(idx).headers[name.toLowerCase()] = value;
  }

  getResponseSettings(idx: number): Readonly<ResponseSettings> {
    return this.at(idx);
  }

  sendIntermediate(outputs: readonly unknown[]): Promise<void> {
    if (!this.sender) return Promise.reject(new Error('sendIntermediate called outside of a running batch'));
    return this.sender(outputs);
  }

  sequenceIdFor(idx: number): string | undefined {
    return this.getRequestHeader(idx, SEQUENCE_ID_HEADER) || undefined;
  }

  isSequenceStart(idx: number): boolean {
    return flagValue(this.getRequestHeader(idx, SEQUENCE_START_HEADER));
  }

  isSequenceEnd(idx: number): boolean {
    return flagValue(this.getRequestHeader(idx, SEQUENCE_END_HEADER));
  }

  endSequence(idx: number): void {
    this.setResponseHeader(idx, SEQUENCE_END_HEADER, 'true');
  }

  private at(idx: number): ResponseSettings {
    const r = this.responses[idx];
    if (!r) throw new RangeError(`request index ${idx} is outside the batch of ${this.responses.length}`);
    return r;
  }
}
