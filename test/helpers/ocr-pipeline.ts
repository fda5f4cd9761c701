import { OcrPipeline, type OcrLine } from '../../examples/ocr/pipeline.js';

/** What the OCR pipeline reads in one process from an image (a fresh pipeline, released after). */
export async function inProcessLines(image: Uint8Array): Promise<OcrLine[]> {
  const pipeline = await OcrPipeline.create();
  try {
    return (await pipeline.run(image)).lines;
  } finally {
    await pipeline.close();
  }
}
