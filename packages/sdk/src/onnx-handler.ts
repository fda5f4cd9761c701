import { join } from 'node:path';
import type { ModelMetadata } from '@model-server/protocol';
import { encodeTensorBundle, TENSOR_BUNDLE_CONTENT_TYPE } from '@model-server/protocol/wire';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import type { Context } from './context.js';
import { PredictionError } from './errors.js';
import { asPredictionError } from './per-request.js';
import { readExplainConfig, type ExplainConfig } from './explain/explain-config.js';
import { explainFeeds } from './explain/onnx-explain.js';
import { BaseHandler } from './handler.js';
import { sessionMetadata } from './onnx-metadata.js';
import { openSession, readOnnxOptions } from './onnx-session.js';
import { runTensorJobs, type TensorJob, type TensorJobResult } from './onnx-tensor-path.js';
import type { HandlerRequest } from './request.js';
import { SubsetContext } from './subset-context.js';
import { runStacked } from './tensor-batch.js';
import { fromOrtTensor, isTensorRequest, requestedOutputs, tensorFeeds } from './tensor-codec.js';

/** Handler metric counting session runs of tensor requests, labelled `mode`: `stacked` or `single`. */
export const TENSOR_RUNS_METRIC = 'onnx_tensor_runs_total';

export type Feeds = Record<string, Tensor>;
export type Fetches = Record<string, Tensor>;

/**
 * Splits batch positions into requests for the session itself (v2 `infer` naming only the model's
 * inputs) and the others, which go through preprocess: a v2 request with inputs of its own (a BYTES
 * image for a model taking FP32 pixels, as KServe's clients send) is the handler's to read.
 */
function partition(data: readonly HandlerRequest[], inputNames: readonly string[]): { tensors: number[]; others: number[] } {
  const tensors: number[] = [];
  const others: number[] = [];
  data.forEach((r, i) => (isTensorRequest(r) && r.inputs.every((input) => inputNames.includes(input.name)) ? tensors : others).push(i));
  return { tensors, others };
}

/**
 * A handler around one onnxruntime-node session on the archive's `serializedFile`.
 *
 * `preprocess` returns one feed map per request (each tensor with its own leading batch dimension,
 * usually 1). `inference` stacks the batch into one session run when every input's first dimension is
 * dynamic, and splits the outputs back per request; otherwise it runs request by request.
 * `postprocess` turns each request's outputs into its result (default: `{name: {dims, data}}`).
 *
 * Requests whose inputs are all tensors (`/v2/models/{m}/infer`) skip preprocess and postprocess: their
 * tensors feed the session by name, batched along dimension 0, and the outputs go back as tensors. So
 * every ONNX handler speaks the Open Inference Protocol without code, and `metadata()` reports the
 * session's signature. `explain` attributes the prediction with occlusion (see `explain:` in
 * model-config.yaml).
 */
export abstract class OnnxHandler extends BaseHandler<(Feeds | Error)[], Fetches[]> {
  protected session!: InferenceSession;
  /** Whether one session run may carry a whole batch (first dimension of every input is dynamic). */
  protected batchable = false;
  /** The `explain:` section of model-config.yaml, checked at load time. */
  protected explainConfig!: ExplainConfig;
  private signature!: ModelMetadata;

  override async initialize(context: Context): Promise<void> {
    await super.initialize(context);
    const file = context.manifest.model.serializedFile;
    if (!file) throw new Error('manifest model.serializedFile is required by OnnxHandler');
    this.explainConfig = readExplainConfig(context.modelConfig);
    this.session = await openSession(join(context.modelDir, file), readOnnxOptions(context.modelConfig));
    this.signature = sessionMetadata(this.session);
    this.batchable = this.session.inputNames.every((name) => {
      const meta = this.session.inputMetadata.find((m) => m.name === name);
      return meta !== undefined && meta.isTensor && typeof meta.shape[0] !== 'number';
    });
  }

  /** The session's inputs and outputs, reported to the gateway for `GET /v2/models/{m}`. */
  metadata(): ModelMetadata {
    return this.signature;
  }

  /** One feed map per request; an Error in a request's slot fails that request alone (see mapRequests). */
  abstract override preprocess(data: HandlerRequest[], context: Context): Promise<(Feeds | Error)[]> | (Feeds | Error)[];

  /** Gets only requests whose preprocessing succeeded (BaseHandler.handle sets the failed ones aside). */
  override async inference(input: (Feeds | Error)[], _context: Context): Promise<Fetches[]> {
    const perRequest = input as Feeds[];
    if (perRequest.length > 1 && this.batchable) {
      const stacked = await runStacked(this.session, perRequest);
      if (stacked) return stacked;
    }
    const out: Fetches[] = [];
    for (const feeds of perRequest) out.push(await this.session.run(feeds));
    return out;
  }

  override postprocess(outputs: Fetches[], _context: Context): unknown[] {
    return outputs.map((fetches) =>
      Object.fromEntries(
        Object.entries(fetches).map(([name, t]) => [name, { dims: t.dims, data: Array.from(t.data as ArrayLike<number>) }]),
      ),
    );
  }

  /** Routes tensor requests to the tensor path and the others to preprocess → inference → postprocess. */
  override async handle(data: HandlerRequest[], context: Context): Promise<unknown[]> {
    if (context.isExplain) return this.explain(data, context);
    const { tensors, others } = partition(data, this.session.inputNames);
    if (tensors.length === 0) return super.handle(data, context);
    const results: unknown[] = new Array(data.length);
    if (others.length > 0) {
      const part = await super.handle(others.map((p) => data[p]!), new SubsetContext(context, others));
      if (!Array.isArray(part) || part.length !== others.length) {
        throw new Error(`number of batch response mismatched: ${Array.isArray(part) ? part.length : typeof part} results for ${others.length} requests`);
      }
      others.forEach((p, i) => (results[p] = part[i]));
    }
    // A malformed request is answered alone; the rest of the batch still runs.
    const answers: TensorJobResult[] = new Array(tensors.length);
    const jobs: TensorJob[] = [];
    const jobPositions: number[] = [];
    tensors.forEach((p, i) => {
      try {
        jobs.push({ feeds: tensorFeeds(data[p]!), outputs: requestedOutputs(data[p]!) });
        jobPositions.push(i);
      } catch (err) {
        answers[i] = { error: err instanceof PredictionError ? err : new PredictionError((err as Error).message, 400) };
      }
    });
    const { results: ran, runs } = await runTensorJobs(this.session, this.signature, this.batchable, jobs);
    ran.forEach((answer, k) => (answers[jobPositions[k]!] = answer));
    for (const [mode, n] of Object.entries(runs)) {
      if (n > 0) context.metrics.counter(TENSOR_RUNS_METRIC, n, { mode }, 'ONNX Runtime session runs for tensor requests, by mode (stacked batch or single request)');
    }
    answers.forEach((answer, i) => {
      const p = tensors[i]!;
      if ('error' in answer) {
        results[p] = answer.error;
        return;
      }
      context.setResponseContentType(p, TENSOR_BUNDLE_CONTENT_TYPE);
      results[p] = encodeTensorBundle(Object.entries(answer.outputs).map(([name, t]) => fromOrtTensor(name, t)));
    });
    return results;
  }

  /** Feeds per request: tensors as sent for tensor requests, `preprocess` for the others; a bad one is its Error. */
  protected async feedsFor(data: HandlerRequest[], context: Context): Promise<(Feeds | Error)[]> {
    const { tensors, others } = partition(data, this.session.inputNames);
    const feeds: (Feeds | Error)[] = new Array(data.length);
    for (const p of tensors) {
      try {
        feeds[p] = tensorFeeds(data[p]!);
      } catch (err) {
        feeds[p] = asPredictionError(err, 400);
      }
    }
    if (others.length > 0) {
      const sub = others.length === data.length ? context : new SubsetContext(context, others);
      const pre = await this.preprocess(others.map((p) => data[p]!), sub);
      others.forEach((p, i) => (feeds[p] = pre[i]!));
    }
    return feeds;
  }

  /**
   * Occlusion attributions for each request (see `explain:` in model-config.yaml): one
   * {@link Explanation} per example, computed in a few batched session runs. No gradients needed. A
   * request whose input is bad fails alone.
   */
  override async explain(data: HandlerRequest[], context: Context): Promise<unknown[]> {
    const feeds = await this.feedsFor(data, context);
    const out: unknown[] = [];
    for (let i = 0; i < feeds.length; i++) {
      const f = feeds[i]!;
      if (f instanceof Error) {
        out.push(f);
        continue;
      }
      const signal = context.signalFor(i);
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new PredictionError('cancelled', 499);
      out.push(await explainFeeds(this.session, this.batchable, f, this.explainConfig, signal));
    }
    return out;
  }

  override async close(): Promise<void> {
    await this.session?.release();
  }
}

export { Tensor };
