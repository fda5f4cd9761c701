import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { PredictionError } from '../errors.js';
import { concatTensors } from '../tensor-batch.js';
import { resolveWindows, type ExplainConfig } from './explain-config.js';
import { nest, occlusion, type FeatureArray } from './occlusion.js';

/** The explanation of one example, as `/explanations` and KServe's `:explain` return it. */
export interface Explanation {
  /** Method used (`occlusion` or `feature_ablation`). */
  method: string;
  /** The input whose features are attributed. */
  input: string;
  /** The output explained, and the index in its row whose score is attributed. */
  output: string;
  target: number;
  /** The target's score on the unperturbed example. */
  score: number;
  /** Layout of `attributions`. */
  featureShape: number[];
  /** One value per feature, nested by `featureShape`: how much occluding it lowers the target's score. */
  attributions: unknown;
  /** Perturbed copies scored, and the model runs that scored them (the unperturbed run included). */
  windows: number;
  runs: number;
}

function argmax(values: ArrayLike<number | bigint>, from: number, count: number): number {
  let best = 0;
  for (let i = 1; i < count; i++) if (Number(values[from + i]) > Number(values[from + best])) best = i;
  return best;
}

/** Row `r` of a tensor as a tensor with a leading dimension of 1. */
function rowOf(tensor: Tensor, r: number): Tensor {
  const rows = Number(tensor.dims[0]);
  const size = tensor.size / rows;
  const dims = [1, ...tensor.dims.slice(1)];
  if (tensor.type === 'string') return new Tensor('string', (tensor.data as string[]).slice(r * size, (r + 1) * size), dims);
  const data = (tensor.data as Exclude<Tensor.DataType, string[]>).slice(r * size, (r + 1) * size);
  return new Tensor(tensor.type, data as never, dims);
}

/**
 * Explains each example (row) of one request's feeds with occlusion: a request of one example gets one
 * Explanation, a request of several gets one per row. Every other input of the model is held at the
 * example's own values while the chosen input is perturbed.
 */
export async function explainFeeds(
  session: InferenceSession,
  batchable: boolean,
  feeds: Record<string, Tensor>,
  config: ExplainConfig,
  signal?: AbortSignal,
): Promise<Explanation | Explanation[]> {
  const inputName = config.input ?? session.inputNames[0]!;
  const outputName = config.output ?? session.outputNames[0]!;
  if (!session.outputNames.includes(outputName)) throw new PredictionError(`explain.output '${outputName}' is not an output of the model`, 500);
  const input = feeds[inputName];
  if (!input) throw new PredictionError(`explaining needs the input '${inputName}'`, 400);
  if (input.type !== 'float32' && input.type !== 'float64') {
    throw new PredictionError(`occlusion perturbs float inputs; input '${inputName}' is ${input.type}`, 400);
  }
  if (input.dims.length < 1) throw new PredictionError(`input '${inputName}' needs a batch dimension to be explained`, 400);
  const rows = Number(input.dims[0]);
  const rowShape = input.dims.slice(1).map(Number);
  const featureShape = config.featureShape ?? (rowShape.length > 0 ? rowShape : [1]);
  const { window, stride } = resolveWindows(config, featureShape);
  const explanations: Explanation[] = [];
  for (let r = 0; r < rows; r++) {
    const others = Object.entries(feeds)
      .filter(([name]) => name !== inputName)
      .map(([name, t]) => [name, Number(t.dims[0]) === rows ? rowOf(t, r) : t] as const);
    let target = config.target;
    const score = async (batch: FeatureArray, k: number): Promise<number[]> => {
      const run: Record<string, Tensor> = { [inputName]: new Tensor(input.type, batch, [k, ...rowShape]) };
      for (const [name, t] of others) run[name] = k === 1 ? t : concatTensors(new Array<Tensor>(k).fill(t));
      const out = (await session.run(run, [outputName]))[outputName]!;
      const values = out.data as ArrayLike<number | bigint>;
      const width = out.size / k;
      target ??= argmax(values, 0, width);
      if (target >= width) throw new PredictionError(`explain.target ${target} is outside output '${outputName}' of width ${width}`, 500);
      return Array.from({ length: k }, (_, j) => Number(values[j * width + target!]));
    };
    const row = (input.data as FeatureArray).slice(r * (input.size / rows), (r + 1) * (input.size / rows));
    let result;
    try {
      result = await occlusion(row, score, { featureShape, window, stride, baseline: config.baseline, maxBatch: batchable ? config.maxBatch : 1, signal });
    } catch (err) {
      if (err instanceof RangeError) throw new PredictionError(`cannot explain input '${inputName}': ${err.message}`, 400);
      throw err;
    }
    explanations.push({
      method: config.method,
      input: inputName,
      output: outputName,
      target: target!,
      score: result.baseScore,
      featureShape: [...featureShape],
      attributions: nest(result.attributions, featureShape),
      windows: result.windows,
      runs: result.scoreCalls,
    });
  }
  return rows === 1 ? explanations[0]! : explanations;
}
