/**
 * MNIST digit classifier: a PNG or JPEG of a digit in, the digit out (as JSON, e.g. `7`).
 * Images of any size are scaled to 28x28 grayscale; a dark digit on a light background is inverted
 * to match the training data (light digit on black).
 */
import { OnnxHandler, Tensor, imageToTensorSync, mapRequests, type Feeds, type Fetches, type HandlerRequest } from '@model-server/sdk';

const SIDE = 28;

export default class MnistHandler extends OnnxHandler {
  // mapRequests: an input that is not an image fails that request alone (400), not its batch-mates.
  override preprocess(data: HandlerRequest[]): (Feeds | Error)[] {
    return mapRequests(data, (request) => {
      const pixels = imageToTensorSync(request.payload, { width: SIDE, height: SIDE, channels: 1 });
      let mean = 0;
      for (const p of pixels) mean += p;
      if (mean / pixels.length > 0.5) for (let i = 0; i < pixels.length; i++) pixels[i] = 1 - pixels[i]!;
      return { input: new Tensor('float32', pixels, [1, SIDE * SIDE]) };
    });
  }

  override postprocess(outputs: Fetches[]): number[] {
    return outputs.map((fetches) => {
      const logits = fetches['logits']!.data as Float32Array;
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
      return best;
    });
  }
}
