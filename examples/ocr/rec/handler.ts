/**
 * OCR rec node: the crop node's line images in, `{lines: [{text, confidence, box}]}` out in reading
 * order (PP-OCRv4 recognition, greedy CTC over PaddleOCR's dictionary). The lines of every request
 * in a batch are pooled and sorted by width, so one session run carries lines of several images.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseHandler, openSession, readOnnxOptions, sessionMetadata, Tensor, type Context, type HandlerRequest } from '@model-server/sdk';
import type { InferenceSession } from 'onnxruntime-node';
import type { CtcResult } from '../src/ctc-decode.js';
import { charsetFromDictionary } from '../src/dictionary.js';
import { decodeCrops, type CropOutput } from '../src/node-frames.js';
import { readOptions, REC_DEFAULTS, type RecOptions } from '../src/options.js';
import { ocrLines, recognise, type RecRun } from '../src/rec-node.js';
import { failedAnswer, settle, type Outcome } from '../src/request-failure.js';
import type { OcrLine } from '../src/types.js';

export default class OcrRecHandler extends BaseHandler<Outcome<CropOutput>[], Outcome<OcrLine[]>[]> {
  private session!: InferenceSession;
  private options!: RecOptions;
  private charset!: string[];

  override async initialize(context: Context): Promise<void> {
    await super.initialize(context);
    this.options = readOptions(REC_DEFAULTS, context.handlerConfig);
    this.charset = charsetFromDictionary(await readFile(join(context.modelDir, this.options.dictionary), 'utf8'));
    this.session = await openSession(join(context.modelDir, context.manifest.model.serializedFile ?? ''), readOnnxOptions(context.modelConfig));
  }

  metadata(): ReturnType<typeof sessionMetadata> {
    return sessionMetadata(this.session);
  }

  override preprocess(data: HandlerRequest[]): Promise<Outcome<CropOutput>[]> {
    return Promise.all(data.map((r) => settle(() => decodeCrops(r.payload))));
  }

  override async inference(perRequest: Outcome<CropOutput>[], context: Context): Promise<Outcome<OcrLine[]>[]> {
    // Lines of requests still wanted, pooled: request i owns pooled[starts[i] .. starts[i] + n).
    const live = perRequest.map((p, i) => !(p instanceof Error) && !context.signalFor(i).aborted);
    const pooled = perRequest.flatMap((p, i) => (live[i] ? (p as CropOutput) : []));
    const run: RecRun = async (data, dims) => {
      const out = await this.session.run({ [this.session.inputNames[0]!]: new Tensor('float32', data, [...dims]) });
      const t = out[this.session.outputNames[0]!]!;
      return { data: t.data as Float32Array, dims: t.dims };
    };
    const results = await recognise(pooled.map((c) => c.image), run, this.charset, this.options, context.signal);
    let at = 0;
    return perRequest.map((p, i): Outcome<OcrLine[]> => {
      if (!live[i]) return p instanceof Error ? p : [];
      const crops = p as CropOutput;
      const mine: CtcResult[] = results.slice(at, at + crops.length);
      at += crops.length;
      return ocrLines(crops, mine, this.options.minConfidence);
    });
  }

  override postprocess(outputs: Outcome<OcrLine[]>[], context: Context): unknown[] {
    return outputs.map((o, i) => (o instanceof Error ? failedAnswer(context, i, o) : { lines: o }));
  }

  override async close(): Promise<void> {
    await this.session?.release();
  }
}
