/**
 * OCR crop node, a function between the det and rec models: the det node's output in, one
 * straightened RGB image per text box out (the crops frame the rec node reads, see
 * src/node-frames.ts). Exported as a plain `handle`, the shape of a workflow's function node.
 */
import type { Context, HandlerRequest } from '@model-server/sdk';
import { cropNode } from '../src/crop-node.js';
import { ensureEngine } from '../src/image-source.js';
import { FRAME_CONTENT_TYPE } from '../src/node-frames.js';
import { CROP_DEFAULTS, readOptions, type CropOptions } from '../src/options.js';
import { settle } from '../src/request-failure.js';

let options: CropOptions = CROP_DEFAULTS;

export async function initialize(context: Context): Promise<void> {
  options = readOptions(CROP_DEFAULTS, context.handlerConfig);
  await ensureEngine(options.engine);
}

export async function handle(data: HandlerRequest[], context: Context): Promise<unknown[]> {
  const outcomes = await Promise.all(data.map((r) => settle(() => cropNode(r.payload, options))));
  // A box frame that does not decode fails its request alone: its Error stays in its slot.
  return outcomes.map((o, i) => {
    if (o instanceof Error) return o;
    context.setResponseContentType(i, FRAME_CONTENT_TYPE);
    return o;
  });
}
