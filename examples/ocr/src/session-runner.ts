import { Tensor } from '@model-server/sdk';
import type { InferenceSession } from 'onnxruntime-node';

/** One float32 input in, the first output back: how both OCR models are run. */
export type SessionRunner = (data: Float32Array, dims: readonly number[]) => Promise<{ data: Float32Array; dims: readonly number[] }>;

/** Runs `session` (a single-input model) on float32 data of the given shape. */
export function sessionRunner(session: InferenceSession): SessionRunner {
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  return async (data, dims) => {
    const fetched = await session.run({ [input]: new Tensor('float32', data, [...dims]) });
    const t = fetched[output]!;
    return { data: t.data as Float32Array, dims: t.dims };
  };
}
