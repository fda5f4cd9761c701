import { ModelServerError, toWireError, type PredictMessage, type WireError } from '@model-server/protocol';
import { HandlerRequest, PredictionError, type Handler } from '@model-server/sdk';
import type { WorkerContext } from './context.js';
import { encodeResult } from './result-encoding.js';
import { residentBytes } from './rss-gauge.js';

/**
 * What the runner sends back: the messages of one call leave together (one write). Resolves once the
 * transport can take more (backpressure).
 */
export type Send = (...messages: Record<string, unknown>[]) => Promise<void>;

/**
 * Runs one batch at a time through the handler and answers every request of it exactly once: a
 * `response` or an `error` per request, then `batch_end`. Cancellation of a request (a `cancel` message)
 * aborts its signal; what the handler does with that is up to it.
 */
export class BatchRunner {
  private readonly controllers = new Map<string, AbortController>();

  constructor(
    private readonly handler: Handler,
    private readonly context: WorkerContext,
    private readonly send: Send,
    private readonly maxResponseBytes: number,
  ) {}

  cancel(requestId: string, reason: string): void {
    this.controllers.get(requestId)?.abort(new ModelServerError('REQUEST_CANCELLED', { requestId, reason }));
  }

  async run(batch: PredictMessage): Promise<void> {
    const started = performance.now();
    const { batchId } = batch;
    const ids = batch.requests.map((r) => r.id);
    const controllers = ids.map((id) => {
      const c = new AbortController();
      this.controllers.set(id, c);
      return c;
    });
    const data = batch.requests.map((r) => new HandlerRequest(r.id, r.headers, r.inputs));
    const sendIntermediate = async (outputs: readonly unknown[]): Promise<void> => {
      if (outputs.length !== ids.length) {
        throw new RangeError(`sendIntermediate got ${outputs.length} outputs for a batch of ${ids.length}`);
      }
      if (controllers.every((c) => c.signal.aborted)) throw controllers[0]!.signal.reason;
      const chunks: Record<string, unknown>[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (outputs[i] === undefined || controllers[i]!.signal.aborted) continue;
        const encoded = this.checkSize(encodeResult(outputs[i], this.context.getResponseSettings(i)));
        chunks.push({ type: 'chunk', batchId, requestId: ids[i], ...encoded });
      }
      if (chunks.length > 0) await this.send(...chunks);
    };
    this.context.beginBatch(
      ids,
      batch.requests.map((r) => r.headers),
      controllers.map((c) => c.signal),
      batch.kind === 'explain',
      sendIntermediate,
    );
    // Every answer of the batch, then batch_end, goes out in one write.
    const out: Record<string, unknown>[] = [];
    try {
      const results = await this.handler.handle(data, this.context);
      if (!Array.isArray(results) || results.length !== ids.length) {
        throw new ModelServerError('BATCH_SIZE_MISMATCH', {
          got: Array.isArray(results) ? results.length : typeof results,
          expected: ids.length,
        });
      }
      for (let i = 0; i < ids.length; i++) {
        try {
          const encoded = this.checkSize(encodeResult(results[i], this.context.getResponseSettings(i)));
          out.push({ type: 'response', batchId, requestId: ids[i], ...encoded });
        } catch (err) {
          out.push({ type: 'error', batchId, requestId: ids[i], error: toWireError(err) });
        }
      }
    } catch (err) {
      out.push({ type: 'error', batchId, error: this.handlerError(err) });
    } finally {
      this.context.endBatch();
      for (const id of ids) this.controllers.delete(id);
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

  private checkSize<T extends { body: Uint8Array }>(encoded: T): T {
    if (encoded.body.byteLength > this.maxResponseBytes) {
      throw new ModelServerError('RESPONSE_TOO_LARGE', { limit: this.maxResponseBytes });
    }
    return encoded;
  }

  /** The handler's own message and status (500 unless it chose one), never a generic text. */
  private handlerError(err: unknown): WireError {
    if (err instanceof ModelServerError) return toWireError(err);
    const message = err instanceof Error ? err.message : String(err);
    let status = 500;
    if (err instanceof PredictionError) status = err.status;
    else if (this.context.requestIds.length > 0) {
      const chosen = this.context.getResponseSettings(0).status;
      if (chosen >= 400) status = chosen;
    }
    return { code: 'HANDLER_ERROR', message: message || 'handler failed', status };
  }
}
