/**
 * Perturbation-based attribution that needs no gradients (ONNX Runtime has none): Captum's Occlusion.
 * A window slides over the features; each position is replaced by a baseline value, the model scores
 * the perturbed copy, and the drop in the target's score is credited to every feature under the window.
 * A feature's attribution is the average drop over the windows that covered it. With stride equal to
 * the window this is feature ablation on a grid of non-overlapping patches.
 *
 * Perturbed copies are scored in batches of `maxBatch`, so a 28x28 image with a 4x4 window and
 * stride 2 (169 windows) costs 1 + 3 model runs at maxBatch 64.
 */

export interface OcclusionOptions {
  /** How one example's features are laid out, e.g. `[28, 28]`; the product is the feature count. */
  featureShape: readonly number[];
  /** Window size per dimension of `featureShape`. */
  window: readonly number[];
  /** Step between window positions per dimension. */
  stride: readonly number[];
  /** The value occluded features are set to. */
  baseline: number;
  /** Most perturbed copies scored in one call of the score function. */
  maxBatch: number;
  /** Checked between score calls; an aborted signal stops the work with its reason. */
  signal?: AbortSignal | undefined;
}

/** A float array an example's features can be copied into. */
export type FeatureArray = Float32Array | Float64Array;

/**
 * Scores `rows` examples laid out back to back in `batch` (each `featureCount` long) and returns one
 * score per example: the value of the output being explained.
 */
export type ScoreFn = (batch: FeatureArray, rows: number) => Promise<ArrayLike<number>>;

export interface OcclusionResult {
  /** One value per feature, in the layout of the input. */
  attributions: Float64Array;
  /** The target's score on the unperturbed input. */
  baseScore: number;
  /** Perturbed copies scored. */
  windows: number;
  /** Calls of the score function, the unperturbed one included. */
  scoreCalls: number;
}

/** Start offsets of every window along each dimension. */
function windowStarts(shape: readonly number[], window: readonly number[], stride: readonly number[]): number[][] {
  return shape.map((size, d) => {
    const w = window[d]!;
    const s = stride[d]!;
    const starts: number[] = [];
    for (let at = 0; at + w <= size; at += s) starts.push(at);
    return starts;
  });
}

/** Calls `fn` with the flat index of every feature inside the window starting at `origin`. */
function forEachInWindow(
  shape: readonly number[],
  window: readonly number[],
  origin: readonly number[],
  fn: (flat: number) => void,
): void {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= shape[d]!;
  }
  const offset = new Array<number>(rank).fill(0);
  for (;;) {
    let flat = 0;
    for (let d = 0; d < rank; d++) flat += (origin[d]! + offset[d]!) * strides[d]!;
    fn(flat);
    let d = rank - 1;
    while (d >= 0 && ++offset[d] >= window[d]!) offset[d--] = 0;
    if (d < 0) return;
  }
}

/** Every combination of per-dimension starts (the window origins), in row-major order. */
function origins(starts: readonly number[][]): number[][] {
  let out: number[][] = [[]];
  for (const dim of starts) out = out.flatMap((prefix) => dim.map((s) => [...prefix, s]));
  return out;
}

function checkOptions(input: FeatureArray, o: OcclusionOptions): void {
  const rank = o.featureShape.length;
  const count = o.featureShape.reduce((a, b) => a * b, 1);
  if (count !== input.length) {
    throw new RangeError(`featureShape [${o.featureShape.join(',')}] holds ${count} features but the input has ${input.length}`);
  }
  if (o.window.length !== rank || o.stride.length !== rank) {
    throw new RangeError(`window and stride need ${rank} values, one per dimension of featureShape`);
  }
  o.window.forEach((w, d) => {
    if (!Number.isInteger(w) || w < 1 || w > o.featureShape[d]!) {
      throw new RangeError(`window[${d}] must be an integer in 1..${o.featureShape[d]} (got ${w})`);
    }
    if (!Number.isInteger(o.stride[d]) || o.stride[d]! < 1) throw new RangeError(`stride[${d}] must be a positive integer`);
  });
  if (!Number.isInteger(o.maxBatch) || o.maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
}

/** Occlusion attributions of one example's features; see the module comment. */
export async function occlusion(input: FeatureArray, score: ScoreFn, options: OcclusionOptions): Promise<OcclusionResult> {
  checkOptions(input, options);
  const { featureShape, window, stride, baseline, maxBatch, signal } = options;
  const Ctor = input.constructor as new (length: number) => FeatureArray;
  const n = input.length;
  const baseScore = Number((await score(input, 1))[0]);
  const positions = origins(windowStarts(featureShape, window, stride));
  const total = new Float64Array(n);
  const covered = new Uint32Array(n);
  let scoreCalls = 1;
  for (let first = 0; first < positions.length; first += maxBatch) {
    signal?.throwIfAborted();
    const chunk = positions.slice(first, first + maxBatch);
    const batch = new Ctor(chunk.length * n);
    const members: number[][] = chunk.map((origin, row) => {
      batch.set(input, row * n);
      const flats: number[] = [];
      forEachInWindow(featureShape, window, origin, (flat) => {
        batch[row * n + flat] = baseline;
        flats.push(flat);
      });
      return flats;
    });
    const scores = await score(batch, chunk.length);
    scoreCalls++;
    members.forEach((flats, row) => {
      const drop = baseScore - Number(scores[row]);
      for (const f of flats) {
        total[f] += drop;
        covered[f]++;
      }
    });
  }
  for (let f = 0; f < n; f++) total[f] = covered[f] ? total[f]! / covered[f]! : 0;
  return { attributions: total, baseScore, windows: positions.length, scoreCalls };
}

/** A flat row-major array as nested arrays of the given shape (`[28, 28]` gives 28 rows of 28). */
export function nest(flat: ArrayLike<number>, shape: readonly number[]): unknown {
  if (shape.length <= 1) return Array.from(flat);
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  const out: unknown[] = [];
  for (let i = 0; i < shape[0]!; i++) {
    out.push(nest(Array.prototype.slice.call(flat, i * inner, (i + 1) * inner) as number[], shape.slice(1)));
  }
  return out;
}
