import { didYouMeanSuffix } from './did-you-mean.js';
import { modelConfigSchema } from './model-config.js';

/** Top-level model-config.yaml sections the worker and the SDK read. */
const WORKER_SECTIONS = ['handler', 'onnx', 'explain'];

/** Every key this server reads from model-config.yaml. */
export const MODEL_CONFIG_KEYS: readonly string[] = [...Object.keys(modelConfigSchema.shape), ...WORKER_SECTIONS];

/**
 * TorchServe's model-config.yaml keys that this server does not act on, with what it does instead.
 * A key is reported only when its value asks for something (deviceType: cpu, or false, is what runs anyway).
 */
const TORCHSERVE_ONLY: Readonly<Record<string, { note: string; inert?: (v: unknown) => boolean }>> = {
  deviceType: { note: 'models run on the CPU', inert: (v) => v === 'cpu' || v === '' },
  deviceIds: { note: 'no GPUs are used' },
  parallelType: { note: 'no pipeline or tensor parallel workers', inert: (v) => v === '' },
  parallelLevel: { note: 'no pipeline or tensor parallel workers', inert: (v) => v === 0 || v === 1 },
  torchrun: { note: 'no torchrun workers' },
  continuousBatching: { note: 'batches are formed per request (dynamic batching)', inert: (v) => v === false },
  sequenceBatching: { note: 'sequences are kept by the handler (see examples/vad)', inert: (v) => v === false },
  maxNumSequence: { note: 'sequences are kept by the handler (see examples/vad)' },
  maxSequenceJobQueueSize: { note: 'sequences are kept by the handler (see examples/vad)' },
  sequenceMaxIdleMSec: { note: 'sequences are kept by the handler (see examples/vad)' },
  sequenceTimeoutMSec: { note: 'sequences are kept by the handler (see examples/vad)' },
  asyncCommunication: { note: 'one batch at a time per worker', inert: (v) => v === false },
  useJobTicket: { note: 'a full queue refuses at once (jobQueueSize)', inert: (v) => v === false },
  useVenv: { note: 'no Python environments; model-archiver bundles npm dependencies', inert: (v) => v === false },
  clientTimeoutInMills: { note: 'use responseTimeout, or the x-request-timeout-ms header per request', inert: (v) => v === 0 },
  pt2: { note: 'no PyTorch 2 compilation' },
};

export interface ModelConfigReport {
  /** Keys this server does not know, each with its nearest known key when one is near. */
  unknown: string[];
  /** TorchServe keys it knows but does not act on, with why. */
  notActedOn: string[];
}

/** What a model-config.yaml holds that this server will not act on. */
export function checkModelConfigKeys(config: Readonly<Record<string, unknown>>): ModelConfigReport {
  const unknown: string[] = [];
  const notActedOn: string[] = [];
  const known = [...MODEL_CONFIG_KEYS, ...Object.keys(TORCHSERVE_ONLY)];
  for (const [key, value] of Object.entries(config)) {
    if (MODEL_CONFIG_KEYS.includes(key)) continue;
    const ts = TORCHSERVE_ONLY[key];
    if (ts) {
      if (!ts.inert?.(value)) notActedOn.push(`${key}: ${JSON.stringify(value)} (${ts.note})`);
      continue;
    }
    unknown.push(`"${key}"${didYouMeanSuffix(key, known)}`);
  }
  return { unknown, notActedOn };
}

/** The report as warning lines, empty when there is nothing to say; `file` names the yaml. */
export function modelConfigWarnings(config: Readonly<Record<string, unknown>>, file: string): string[] {
  const { unknown, notActedOn } = checkModelConfigKeys(config);
  const out: string[] = [];
  if (notActedOn.length > 0) out.push(`${file}: TorchServe settings not acted on by this server: ${notActedOn.join('; ')}`);
  if (unknown.length > 0) {
    out.push(
      `${file}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: not a setting of this server ` +
        '(the handler still sees it in context.modelConfig; handler settings belong under handler:)',
    );
  }
  return out;
}
