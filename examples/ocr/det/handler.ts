/**
 * OCR det node: a PNG or JPEG in, its text boxes out (PP-OCRv4 detection with DB post-processing).
 * The answer is the det frame the crop node reads (see src/node-frames.ts), or with
 * `Accept: application/json` just `{width, height, boxes}`. Images of the same input size in one
 * batch share a session run.
 */
import type { Context, HandlerRequest } from '@model-server/sdk';
import { detectionBoxes, prepareDetection, type DetInput } from '../src/det-node.js';
import { ensureEngine } from '../src/image-source.js';
import { encodeDetOutput, FRAME_CONTENT_TYPE } from '../src/node-frames.js';
import { DET_DEFAULTS, readOptions, type DetOptions } from '../src/options.js';
import { settle } from '../src/request-failure.js';
import { SessionHandler } from '../src/session-handler.js';

interface Prepared {
  readonly image: Uint8Array;
  readonly input: DetInput;
}
interface Detected extends Prepared {
  readonly prob: Float32Array;
}

/** A request whose image does not decode fails alone: its Error stays in its slot (the SDK sets it aside). */
export default class OcrDetHandler extends SessionHandler<(Prepared | Error)[], Detected[]> {
  private options!: DetOptions;

  override async initialize(context: Context): Promise<void> {
    await super.initialize(context);
    this.options = readOptions(DET_DEFAULTS, context.handlerConfig);
    await ensureEngine(this.options.engine);
  }

  override preprocess(data: HandlerRequest[]): Promise<(Prepared | Error)[]> {
    return Promise.all(data.map((r) => settle(async () => ({ image: r.payload, input: await prepareDetection(r.payload, this.options) }))));
  }

  /** Gets only the requests whose preprocessing succeeded. */
  override async inference(perRequest: (Prepared | Error)[]): Promise<Detected[]> {
    const prepared = perRequest as Prepared[];
    const out: Detected[] = new Array<Detected>(prepared.length);
    const bySize = new Map<string, number[]>();
    prepared.forEach((p, i) => {
      const key = p.input.dims.join('x');
      bySize.set(key, [...(bySize.get(key) ?? []), i]);
    });
    for (const members of bySize.values()) {
      const [, , h, w] = prepared[members[0]!]!.input.dims;
      const data = new Float32Array(members.length * 3 * h * w);
      members.forEach((i, n) => data.set(prepared[i]!.input.tensor, n * 3 * h * w));
      const prob = (await this.run(data, [members.length, 3, h, w])).data;
      members.forEach((i, n) => (out[i] = { ...prepared[i]!, prob: prob.subarray(n * h * w, (n + 1) * h * w) }));
    }
    return out;
  }

  override postprocess(outputs: Detected[], context: Context): unknown[] {
    return outputs.map((o, i) => {
      const boxes = detectionBoxes(o.prob, o.input, this.options);
      const { width, height } = o.input;
      if (context.getRequestHeader(i, 'accept')?.includes('application/json')) return { width, height, boxes };
      context.setResponseContentType(i, FRAME_CONTENT_TYPE);
      return encodeDetOutput({ width, height, boxes, image: o.image });
    });
  }
}
