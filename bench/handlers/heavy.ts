/**
 * Bench handler (c): the generated heavy MLP (input `input` [N,512] float32, output `output` [N,10]).
 * A request body is 512 little-endian float32 values; the answer is the 10 output values, raw.
 */
import { OnnxHandler, PredictionError, Tensor, type Feeds, type Fetches, type HandlerRequest } from '@model-server/sdk';

const FEATURES = 512;

export default class HeavyHandler extends OnnxHandler {
  override preprocess(data: HandlerRequest[]): Feeds[] {
    return data.map((request) => {
      const body = request.payload;
      if (body.byteLength !== FEATURES * 4) throw new PredictionError(`expected ${FEATURES * 4} bytes, got ${body.byteLength}`, 400);
      // The body is a view into the batch frame at any offset (and Buffer#slice does not copy);
      // Float32Array needs its own aligned copy.
      const values = new Float32Array(new Uint8Array(body).buffer);
      return { input: new Tensor('float32', values, [1, FEATURES]) };
    });
  }

  override postprocess(outputs: Fetches[]): Uint8Array[] {
    return outputs.map((fetches) => {
      const out = fetches['output']!.data as Float32Array;
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    });
  }
}
