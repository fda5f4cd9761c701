import type { ModelMetadata, SequenceEndReason } from '@model-server/protocol';
import type { Context } from './context.js';
import { runWithoutFailed } from './per-request.js';
import type { HandlerRequest } from './request.js';

/**
 * The contract between the worker and a handler module. A module default-exports either a class
 * implementing this (instantiated once, `initialize` awaited before any batch) or a plain
 * `handle(data, context)` function (optionally with an exported `initialize(context)`).
 *
 * `handle` gets one HandlerRequest per request of the batch and must return exactly one result per
 * request, in order. A result is a Uint8Array (sent as is), a string (UTF-8 text), an Error (that
 * request fails alone, with a PredictionError's status or 500), or anything else (sent as JSON).
 */
export interface Handler {
  initialize?(context: Context): Promise<void> | void;
  handle(data: HandlerRequest[], context: Context): Promise<unknown[]> | unknown[];
  /** Called by the worker before it exits; release sessions and files here. */
  close?(): Promise<void> | void;
  /**
   * The model's inputs and outputs, asked once after `initialize` and served as the Open Inference
   * Protocol's model metadata. ONNX handlers answer from their session; others may leave it out.
   */
  metadata?(): ModelMetadata | undefined;
  /**
   * A stateful model's sequence ended (its last request ran, it was ended by the client or the handler,
   * it expired, its WebSocket closed, or a new start reused its id): free what was kept for it. Called
   * once per sequence, after its last request, between batches; not called when the worker itself
   * stops or dies. What it throws is logged.
   */
  endSequence?(sequenceId: string, reason: SequenceEndReason, context: Context): Promise<void> | void;
}

/**
 * TorchServe's BaseHandler shape: `handle` runs preprocess, inference, postprocess, or `explain` for
 * explanation requests. Subclasses override the stages they need.
 */
export abstract class BaseHandler<Pre = unknown, Out = unknown> implements Handler {
  protected context!: Context;
  protected initialized = false;

  async initialize(context: Context): Promise<void> {
    this.context = context;
    this.initialized = true;
  }

  abstract preprocess(data: HandlerRequest[], context: Context): Promise<Pre> | Pre;
  abstract inference(input: Pre, context: Context): Promise<Out> | Out;

  /** By default the inference output is taken to be one result per request already. */
  postprocess(output: Out, _context: Context): Promise<unknown[]> | unknown[] {
    return output as unknown as unknown[];
  }

  /** The explanation path; handlers that support `/explanations` override it. */
  explain(_data: HandlerRequest[], _context: Context): Promise<unknown[]> | unknown[] {
    throw new Error(`${this.constructor.name} does not implement explain()`);
  }

  /** Releases what `initialize` opened; the worker calls it before exiting. */
  async close(): Promise<void> {}

  /**
   * Runs the stages. When `preprocess` returns one entry per request and some are Errors, those
   * requests fail alone: inference and postprocess run on the others (with a context renumbered to
   * them) and the errors keep their slots (see per-request.ts).
   */
  async handle(data: HandlerRequest[], context: Context): Promise<unknown[]> {
    if (context.isExplain) return this.explain(data, context);
    const pre = await this.preprocess(data, context);
    if (Array.isArray(pre) && pre.length === data.length) {
      const merged = await runWithoutFailed(pre as unknown[], context, async (ok, sub) => this.postprocess(await this.inference(ok as Pre, sub), sub));
      if (merged) return merged;
    }
    const out = await this.inference(pre, context);
    return this.postprocess(out, context);
  }
}
