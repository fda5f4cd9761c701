import { ModelServerError, toWireError, type PredictMessage, type WireError } from '@model-server/protocol/wire';
import type { ChunkMessage, FromWorker, SequenceEndReason } from '@model-server/protocol';
import { HandlerRequest, PredictionError, type Handler } from '@model-server/sdk';
import { BatchSignals } from './batch-signals.js';
import type { WorkerContext } from './context.js';
import { encodeResult } from './result-encoding.js';
import { residentBytes } from './rss-gauge.js';

/**
 * What the runner sends back: the messages of one call leave together (one write). Resolves once the
 * transport can take more (backpressure).
 */
export type Send = (...messages: FromWorker[]) => Promise<void>;

/**
 * Runs one batch at a time through the handler and answers every request of it exactly once: a
 * `response` or an `error` per request, then `batch_end`. Cancellation of a request (a `cancel` message)
 * aborts its signal; what the handler does with that is up to it.
 */
export class BatchRunner {
  /** Request id -> its index in the running batch. */
  private readonly running = new Map<string, number>();
  private signals: BatchSignals | undefined;
  /** Batches received and not yet started (the gateway may send one while another runs). */
  private readonly waiting: PredictMessage[] = [];
  /** Cancellations that arrived for requests of a waiting batch, applied when it starts. */
  private readonly earlyCancels = new Map<string, ModelServerError>();

  constructor(
    private readonly handler: Handler,
    private readonly context: WorkerContext,
    private readonly send: Send,
    private readonly maxResponseBytes: number,
  ) {}

  /** Notes a batch as it arrives, before its turn, so that a cancel can find its requests. */
  received(batch: PredictMessage): void {
    this.waiting.push(batch);
  }

  cancel(requestId: string, reason: string): void {
    const error = new ModelServerError('REQUEST_CANCELLED', { requestId, reason });
    const idx = this.running.get(requestId);
    if (idx !== undefined) this.signals?.abort(idx, error);
    else if (this.waiting.some((b) => b.requests.some((r) => r.id === requestId))) this.earlyCancels.set(requestId, error);
  }

  async run(batch: PredictMessage): Promise<void> {
    const started = performance.now();
    const { batchId } = batch;
    const at = this.waiting.indexOf(batch);
    if (at >= 0) this.waiting.splice(at, 1);
    const ids = batch.requests.map((r) => r.id);
    const signals = new BatchSignals(ids.length);
    this.signals = signals;
    for (let i = 0; i < ids.length; i++) this.running.set(ids[i]!, i);
    if (this.earlyCancels.size > 0) {
      for (let i = 0; i < ids.length; i++) {
        const error = this.earlyCancels.get(ids[i]!);
        if (!error) continue;
        signals.abort(i, error);
        this.earlyCancels.delete(ids[i]!);
      }
    }
    const data = batch.requests.map((r) => new HandlerRequest(r.id, r.headers, r.inputs));
    const sendIntermediate = async (outputs: readonly unknown[]): Promise<void> => {
      if (outputs.length !== ids.length) {
        throw new RangeError(`sendIntermediate got ${outputs.length} outputs for a batch of ${ids.length}`);
      }
      if (signals.allAborted()) throw signals.signal(0).reason;
      const chunks: ChunkMessage[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (outputs[i] === undefined || signals.aborted(i)) continue;
        const encoded = this.checkSize(encodeResult(outputs[i], this.context.getResponseSettings(i)));
        chunks.push({ type: 'chunk', batchId, requestId: ids[i]!, ...encoded });
      }
      if (chunks.length > 0) await this.send(...chunks);
    };
    this.context.beginBatch(
      ids,
      batch.requests.map((r) => r.headers),
      signals,
      batch.kind === 'explain',
      sendIntermediate,
    );
    // Every answer of the batch, then batch_end, goes out in one write.
    const out: FromWorker[] = [];
    try {
      // A batch whose every request was cancelled while it waited is not run at all.
      if (signals.allAborted()) throw signals.signal(0).reason;
      const results = await this.handler.handle(data, this.context);
      if (!Array.isArray(results) || results.length !== ids.length) {
        throw new ModelServerError('BATCH_SIZE_MISMATCH', {
          got: Array.isArray(results) ? results.length : typeof results,
          expected: ids.length,
        });
      }
      for (let i = 0; i < ids.length; i++) {
        const requestId = ids[i]!;
        const result = results[i];
        // An Error in a request's slot fails that request alone; its batch-mates get their answers.
        if (result instanceof Error) {
          out.push({ type: 'error', batchId, requestId, error: this.handlerError(result, i) });
          continue;
        }
        try {
          const encoded = this.checkSize(encodeResult(result, this.context.getResponseSettings(i)));
          out.push({ type: 'response', batchId, requestId, ...encoded });
        } catch (err) {
          out.push({ type: 'error', batchId, requestId, error: toWireError(err) });
        }
      }
    } catch (err) {
      out.push({ type: 'error', batchId, error: this.handlerError(err, 0) });
    } finally {
      this.context.endBatch();
      this.running.clear();
      this.signals = undefined;
    }
    const metrics = this.context.metrics.drain();
    if (metrics.length > 0) out.push({ type: 'metrics', entries: metrics });
    out.push({
      type: 'batch_end',
      batchId,
      handlerMs: performance.now() - started,
      rssBytes: residentBytes(),
    });
    await this.send(...out);
  }

  /**
   * Runs the handler's `endSequence` hook. What it throws is logged, never fatal: a request cannot be
   * failed for it any more, and the worker's other sequences are fine.
   */
  async endSequence(sequenceId: string, reason: string): Promise<void> {
    if (!this.handler.endSequence) return;
    try {
      await this.handler.endSequence(sequenceId, reason as SequenceEndReason, this.context);
    } catch (err) {
      process.stderr.write(`worker: endSequence(${sequenceId}, ${reason}) failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }

  private checkSize<T extends { body: Uint8Array }>(encoded: T): T {
    if (encoded.body.byteLength > this.maxResponseBytes) {
      throw new ModelServerError('RESPONSE_TOO_LARGE', { limit: this.maxResponseBytes });
    }
    return encoded;
  }

  /**
   * The handler's own message and status, never a generic text: a PredictionError's status, or one the
   * handler set for request `i` (>= 400), else 500. The stack travels along for the gateway's log.
   */
  private handlerError(err: unknown, i: number): WireError {
    if (err instanceof ModelServerError) return toWireError(err);
    let status = 500;
    if (err instanceof PredictionError) status = err.status;
    else if (i < this.context.requestIds.length) {
      const chosen = this.context.getResponseSettings(i).status;
      if (chosen >= 400) status = chosen;
    }
    return toWireError(err, status);
  }
}
