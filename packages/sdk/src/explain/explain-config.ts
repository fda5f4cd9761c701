/**
 * The `explain:` section of model-config.yaml, read once at load time so that a bad value fails the
 * model load with the key's name rather than the first explanation request.
 *
 * ```yaml
 * explain:
 *   method: occlusion      # or feature_ablation (stride = window: non-overlapping patches)
 *   input: input           # input to perturb (default: the model's first input)
 *   output: logits         # output to explain (default: the model's first output)
 *   target: 3              # index in the output row (default: the predicted one, argmax)
 *   featureShape: [28, 28] # layout of one example's features (default: the input's shape after dim 0)
 *   window: [4, 4]         # window size; one number applies to every dimension (default 4)
 *   stride: [2, 2]         # default 1 for occlusion (Captum's default), the window for feature_ablation
 *   baseline: 0            # value occluded features take (default 0)
 *   maxBatch: 64           # perturbed copies per model run (default 64)
 * ```
 */
export interface ExplainConfig {
  method: 'occlusion' | 'feature_ablation';
  input: string | undefined;
  output: string | undefined;
  target: number | undefined;
  featureShape: number[] | undefined;
  /** Per dimension, or one number for every dimension. */
  window: number[] | number;
  stride: number[] | number | undefined;
  baseline: number;
  maxBatch: number;
}

export const DEFAULT_EXPLAIN_WINDOW = 4;
export const DEFAULT_EXPLAIN_MAX_BATCH = 64;

function fail(key: string, expected: string, got: unknown): never {
  throw new TypeError(`explain.${key} must be ${expected} (got ${JSON.stringify(got)})`);
}

function positiveInt(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function sizes(raw: Record<string, unknown>, key: string): number[] | number | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (positiveInt(v)) return v as number;
  if (Array.isArray(v) && v.length > 0 && v.every(positiveInt)) return v as number[];
  return fail(key, 'a positive integer or a list of them', v);
}

function optionalString(raw: Record<string, unknown>, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || typeof v === 'string') return v;
  return fail(key, 'a string', v);
}

/** Reads and checks the `explain:` section (all keys optional). */
export function readExplainConfig(modelConfig: Readonly<Record<string, unknown>>): ExplainConfig {
  const section = modelConfig['explain'] ?? {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) fail('', 'a mapping', section);
  const raw = section as Record<string, unknown>;
  const method = raw['method'] ?? 'occlusion';
  if (method !== 'occlusion' && method !== 'feature_ablation') fail('method', '"occlusion" or "feature_ablation"', method);
  const target = raw['target'];
  if (target !== undefined && !(typeof target === 'number' && Number.isInteger(target) && target >= 0)) {
    fail('target', 'a non-negative integer', target);
  }
  const baseline = raw['baseline'] ?? 0;
  if (typeof baseline !== 'number' || !Number.isFinite(baseline)) fail('baseline', 'a number', baseline);
  const maxBatch = raw['maxBatch'] ?? DEFAULT_EXPLAIN_MAX_BATCH;
  if (!positiveInt(maxBatch)) fail('maxBatch', 'a positive integer', maxBatch);
  const featureShape = sizes(raw, 'featureShape');
  return {
    method,
    input: optionalString(raw, 'input'),
    output: optionalString(raw, 'output'),
    target: target as number | undefined,
    featureShape: featureShape === undefined ? undefined : ([] as number[]).concat(featureShape),
    window: sizes(raw, 'window') ?? DEFAULT_EXPLAIN_WINDOW,
    stride: sizes(raw, 'stride'),
    baseline,
    maxBatch: maxBatch as number,
  };
}

/** Expands window and stride to one value per dimension of `featureShape`, applying the defaults. */
export function resolveWindows(config: ExplainConfig, featureShape: readonly number[]): { window: number[]; stride: number[] } {
  const perDim = (v: number[] | number, key: string): number[] => {
    if (typeof v === 'number') return featureShape.map((size) => Math.min(v, size));
    if (v.length !== featureShape.length) {
      throw new RangeError(`explain.${key} has ${v.length} values but featureShape [${featureShape.join(',')}] has ${featureShape.length} dimensions`);
    }
    return v;
  };
  const window = perDim(config.window, 'window');
  const stride = config.stride !== undefined ? perDim(config.stride, 'stride') : config.method === 'feature_ablation' ? window : window.map(() => 1);
  return { window, stride };
}
