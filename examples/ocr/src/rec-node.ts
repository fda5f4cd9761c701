import { ctcGreedyDecode, type CtcResult } from './ctc-decode.js';
import type { LineCrop } from './node-frames.js';
import type { RecOptions } from './options.js';
import { recBatches } from './rec-input.js';
import type { SessionRunner } from './session-runner.js';
import type { OcrLine, RgbImage } from './types.js';


/**
 * Reads every line image: batched by width (see {@link recBatches}), each batch one `run` of the
 * recogniser (`[n, 3, h, w]` in, `[n, T, classes]` scores out), each line's scores CTC-decoded
 * with `charset`. Results come back in the order of `lines`.
 */
export async function recognise(lines: readonly RgbImage[], run: SessionRunner, charset: readonly string[], options: RecOptions, signal?: AbortSignal): Promise<CtcResult[]> {
  const results: CtcResult[] = new Array(lines.length);
  for (const batch of recBatches(lines, options)) {
    signal?.throwIfAborted();
    const out = await run(batch.data, [batch.indices.length, 3, options.height, batch.width]);
    const [, steps, classes] = out.dims as [number, number, number];
    if (classes !== charset.length) throw new Error(`the recogniser has ${classes} classes, the dictionary ${charset.length}`);
    batch.indices.forEach((line, n) => {
      results[line] = ctcGreedyDecode(out.data, steps, classes, charset, n * steps * classes);
    });
  }
  return results;
}

/** The answer's lines: text and box per crop, in the crops' (reading) order, unreadable lines left out. */
export function ocrLines(crops: readonly LineCrop[], results: readonly CtcResult[], minConfidence: number): OcrLine[] {
  const out: OcrLine[] = [];
  crops.forEach((crop, i) => {
    const r = results[i]!;
    if (r.text.trim() === '' || r.confidence < minConfidence) return;
    out.push({ text: r.text, confidence: Math.round(r.confidence * 1e4) / 1e4, box: crop.box });
  });
  return out;
}
