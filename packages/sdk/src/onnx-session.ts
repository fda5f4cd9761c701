import { InferenceSession } from 'onnxruntime-node';

/** The ONNX Runtime settings a model may set in model-config.yaml under `onnx:` (all optional). */
export interface OnnxOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  /** ORT's thread spin-waiting keeps idle cores busy; off unless a model asks for it. */
  allowSpinning?: boolean;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  executionProviders?: string[];
}

function toPositiveInt(value: unknown, key: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`onnx.${key} must be a non-negative integer (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** Reads the `onnx:` section of model-config.yaml, rejecting wrong types with the key's name. */
export function readOnnxOptions(modelConfig: Readonly<Record<string, unknown>>): OnnxOptions {
  const raw = (modelConfig['onnx'] ?? {}) as Record<string, unknown>;
  const intra = toPositiveInt(raw['intraOpNumThreads'], 'intraOpNumThreads');
  const inter = toPositiveInt(raw['interOpNumThreads'], 'interOpNumThreads');
  const options: OnnxOptions = { allowSpinning: raw['allowSpinning'] === true };
  if (intra !== undefined) options.intraOpNumThreads = intra;
  if (inter !== undefined) options.interOpNumThreads = inter;
  const level = raw['graphOptimizationLevel'];
  if (level !== undefined) options.graphOptimizationLevel = level as NonNullable<OnnxOptions['graphOptimizationLevel']>;
  if (Array.isArray(raw['executionProviders'])) options.executionProviders = raw['executionProviders'].map(String);
  return options;
}

/** Opens a session with serving-friendly defaults: one intra-op thread per worker, no spinning. */
export async function openSession(path: string, options: OnnxOptions = {}): Promise<InferenceSession> {
  const spin = options.allowSpinning ? '1' : '0';
  return InferenceSession.create(path, {
    intraOpNumThreads: options.intraOpNumThreads ?? 1,
    interOpNumThreads: options.interOpNumThreads ?? 1,
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    executionProviders: options.executionProviders ?? ['cpu'],
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
  });
}
