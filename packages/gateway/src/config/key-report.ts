import { ModelServerError } from '@model-server/protocol';
import { didYouMeanSuffix } from './did-you-mean.js';
import { keystoreAdvice } from './tls.js';
import { ALWAYS_HONOURED, TORCHSERVE_KEYS } from './torchserve-keys.js';

/**
 * Reports the keys of a config.properties that the schema does not read: TorchServe keys by what
 * this server does with them (a warning, or CONFIG_INVALID for refused ones, naming the key), unknown
 * keys with the nearest known key when one is near (`inference_adress` -> `inference_address`).
 */
export function reportKeys(
  fromFile: Readonly<Record<string, string>>,
  schemaKeys: ReadonlySet<string>,
  source: string,
  warn: ((message: string) => void) | undefined,
): void {
  const known = new Set([...schemaKeys, ...Object.keys(TORCHSERVE_KEYS)]);
  for (const [key, value] of Object.entries(fromFile)) {
    const ts = TORCHSERVE_KEYS[key];
    if (schemaKeys.has(key) || (ts && ALWAYS_HONOURED.has(key))) {
      const problem = ts?.valueWarning?.(value);
      if (problem) warn?.(`${source}: ${problem}`);
      continue;
    }
    if (!ts) {
      warn?.(`${source}: key "${key}" is not used by model-server${didYouMeanSuffix(key, known)}`);
      continue;
    }
    if (ts.status === 'refused') {
      const note = key.startsWith('keystore') ? keystoreAdvice(fromFile['keystore'] ?? '') : ts.note;
      throw new ModelServerError('CONFIG_INVALID', { file: source, reason: `${key} is not supported: ${note}` });
    }
    warn?.(`${source}: ${key} has no effect here: ${ts.note}`);
  }
}
