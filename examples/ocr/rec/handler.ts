/**
 * OCR rec node: the crop node's line images in, `{lines: [{text, confidence, box}]}` out in reading
 * order (PP-OCRv4 recognition, greedy CTC over PaddleOCR's dictionary). The lines of every request
 * in a batch are pooled and sorted by width, so one session run carries lines of several images.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context, HandlerRequest } from '@model-server/sdk';
import type { CtcResult } from '../src/ctc-decode.js';
import { charsetFromDictionary } from '../src/dictionary.js';
import { decodeCrops, type CropOutput } from '../src/node-frames.js';
import { readOptions, REC_DEFAULTS, type RecOptions } from '../src/options.js';
import { checkLineSizes } from '../src/rec-input.js';
import { ocrLines, recognise } from '../src/rec-node.js';
import { settle } from '../src/request-failure.js';
import { SessionHandler } from '../src/session-handler.js';
import type { OcrLine } from '../src/types.js';

/** A request whose crops frame is malformed fails alone: its Error stays in its slot (the SDK sets it aside). */
export default class OcrRecHandler extends SessionHandler<(CropOutput | Error)[], OcrLine[][]> {
  private options!: RecOptions;
  private charset!: string[];

  override async initialize(context: Context): Promise<void> {
    await super.initialize(context);
    this.options = readOptions(REC_DEFAULTS, context.handlerConfig);
    this.charset = charsetFromDictionary(await readFile(join(context.modelDir, this.options.dictionary), 'utf8'));
  }

  override preprocess(data: HandlerRequest[]): Promise<(CropOutput | Error)[]> {
    return Promise.all(
      data.map((r) =>
        settle(() => {
          const crops = decodeCrops(r.payload);
          checkLineSizes(crops.map((c) => c.image), this.options.height);
          return crops;
        }),
      ),
    );
  }

  /** Gets only the requests whose preprocessing succeeded. */
  override async inference(perRequest: (CropOutput | Error)[], context: Context): Promise<OcrLine[][]> {
    const requests = perRequest as CropOutput[];
    // The lines of every request still wanted, pooled in request order; each takes its own back below.
    const live = requests.map((_, i) => !context.signalFor(i).aborted);
    const pooled = requests.flatMap((crops, i) => (live[i] ? crops : []));
    const results = await recognise(pooled.map((c) => c.image), this.run, this.charset, this.options, context.signal);
    let at = 0;
    return requests.map((crops, i): OcrLine[] => {
      if (!live[i]) return [];
      const mine: CtcResult[] = results.slice(at, at + crops.length);
      at += crops.length;
      return ocrLines(crops, mine, this.options.minConfidence);
    });
  }

  override postprocess(outputs: OcrLine[][]): unknown[] {
    return outputs.map((lines) => ({ lines }));
  }
}
