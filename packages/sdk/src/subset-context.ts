import type { Context, Manifest, ResponseSettings } from './context.js';
import { allAborted } from './abort.js';
import type { MetricsRecorder } from './metrics.js';

/**
 * A Context that shows a handler only some requests of the batch, renumbered from 0, so that a batch
 * mixing two kinds of requests (images and tensors, say) can run each kind through its own code path
 * while every per-request call (status, headers, signals, intermediate responses) still lands on the
 * right request of the real batch.
 */
export class SubsetContext implements Context {
  private subsetSignal: AbortSignal | undefined;

  constructor(
    private readonly parent: Context,
    /** Positions in the parent batch, in the order this subset shows them. */
    private readonly positions: readonly number[],
  ) {}

  get modelName(): string {
    return this.parent.modelName;
  }
  get modelVersion(): string {
    return this.parent.modelVersion;
  }
  get modelDir(): string {
    return this.parent.modelDir;
  }
  get manifest(): Manifest {
    return this.parent.manifest;
  }
  get modelConfig(): Readonly<Record<string, unknown>> {
    return this.parent.modelConfig;
  }
  get handlerConfig(): Readonly<Record<string, unknown>> {
    return this.parent.handlerConfig;
  }
  get batchSize(): number {
    return this.parent.batchSize;
  }
  get requestIds(): readonly string[] {
    return this.positions.map((p) => this.parent.requestIds[p]!);
  }
  get requestHeaders(): readonly Readonly<Record<string, string>>[] {
    return this.positions.map((p) => this.parent.requestHeaders[p]!);
  }
  get isExplain(): boolean {
    return this.parent.isExplain;
  }
  /** Aborted once every request of the subset is cancelled, as the batch-wide signal is. */
  get signal(): AbortSignal {
    this.subsetSignal ??= allAborted(this.positions.map((p) => this.parent.signalFor(p)));
    return this.subsetSignal;
  }
  get metrics(): MetricsRecorder {
    return this.parent.metrics;
  }

  private at(idx: number): number {
    const p = this.positions[idx];
    if (p === undefined) throw new RangeError(`request index ${idx} is outside the batch of ${this.positions.length}`);
    return p;
  }

  signalFor(idx: number): AbortSignal {
    return this.parent.signalFor(this.at(idx));
  }
  getRequestHeader(idx: number, name: string): string | undefined {
    return this.parent.getRequestHeader(this.at(idx), name);
  }
  setResponseStatus(status: number, idx?: number): void {
    if (idx !== undefined) this.parent.setResponseStatus(status, this.at(idx));
    else for (const p of this.positions) this.parent.setResponseStatus(status, p);
  }
  setResponseContentType(idx: number, contentType: string): void {
    this.parent.setResponseContentType(this.at(idx), contentType);
  }
  setResponseHeader(idx: number, name: string, value: string): void {
    this.parent.setResponseHeader(this.at(idx), name, value);
  }
  getResponseSettings(idx: number): Readonly<ResponseSettings> {
    return this.parent.getResponseSettings(this.at(idx));
  }
  sequenceIdFor(idx: number): string | undefined {
    return this.parent.sequenceIdFor(this.at(idx));
  }
  isSequenceStart(idx: number): boolean {
    return this.parent.isSequenceStart(this.at(idx));
  }
  isSequenceEnd(idx: number): boolean {
    return this.parent.isSequenceEnd(this.at(idx));
  }
  endSequence(idx: number): void {
    this.parent.endSequence(this.at(idx));
  }
  sendIntermediate(outputs: readonly unknown[]): Promise<void> {
    if (outputs.length !== this.positions.length) {
      return Promise.reject(new RangeError(`sendIntermediate got ${outputs.length} outputs for a batch of ${this.positions.length}`));
    }
    const full: unknown[] = new Array(this.parent.requestIds.length).fill(undefined);
    this.positions.forEach((p, i) => {
      full[p] = outputs[i];
    });
    return this.parent.sendIntermediate(full);
  }
}
