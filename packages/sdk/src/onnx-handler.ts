import { join } from 'node:path';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import type { Context } from './context.js';
import { BaseHandler } from './handler.js';
import { openSession, readOnnxOptions } from './onnx-session.js';
import type { HandlerRequest } from './request.js';
import { concatTensors, splitTensor } from './tensor-batch.js';

export type Feeds = Record<string, Tensor>;
export type Fetches = Record<string, Tensor>;

/**
 * A handler around one onnxruntime-node session on the archive's `serializedFile`.
 *
 * `preprocess` returns one feed map per request (each tensor with its own leading batch dimension,
 * usually 1). `inference` stacks the batch into one session run when every input's first dimension is
 * dynamic, and splits the outputs back per request; otherwise it runs request by request.
 * `postprocess` turns each request's outputs into its result (default: `{name: {dims, data}}`).
 */
export abstract class OnnxHandler extends BaseHandler<Feeds[], Fetches[]> {
  protected session!: InferenceSession;
  /** Whether one session run may carry a whole batch (first dimension of every input is dynamic). */
  protected batchable = false;

  override async initialize(context: Context): Promise<void> {
    await super.initialize(context);
    const file = context.manifest.model.serializedFile;
    if (!file) throw new Error('manifest model.serializedFile is required by OnnxHandler');
    this.session = await openSession(join(context.modelDir, file), readOnnxOptions(context.modelConfig));
    this.batchable = this.session.inputNames.every((name) => {
      const meta = this.session.inputMetadata.find((m) => m.name === name);
      return meta !== undefined && meta.isTensor && typeof meta.shape[0] !== 'number';
    });
  }

  abstract override preprocess(data: HandlerRequest[], context: Context): Promise<Feeds[]> | Feeds[];

  override async inference(perRequest: Feeds[], _context: Context): Promise<Fetches[]> {
    if (perRequest.length === 1 || !this.batchable) {
      const out: Fetches[] = [];
      for (const feeds of perRequest) out.push(await this.session.run(feeds));
      return out;
    }
    const names = Object.keys(perRequest[0]!);
    const stacked: Feeds = {};
    for (const name of names) stacked[name] = concatTensors(perRequest.map((feeds) => feeds[name]!));
    const sizes = perRequest.map((feeds) => Number(feeds[names[0]!]!.dims[0] ?? 1));
    const fetched = await this.session.run(stacked);
    const out: Fetches[] = perRequest.map(() => ({}));
    for (const [name, tensor] of Object.entries(fetched)) {
      splitTensor(tensor, sizes).forEach((part, i) => {
        out[i]![name] = part;
      });
    }
    return out;
  }

  override postprocess(outputs: Fetches[], _context: Context): unknown[] {
    return outputs.map((fetches) =>
      Object.fromEntries(
        Object.entries(fetches).map(([name, t]) => [name, { dims: t.dims, data: Array.from(t.data as ArrayLike<number>) }]),
      ),
    );
  }

  override async close(): Promise<void> {
    await this.session?.release();
  }
}

export { Tensor };
