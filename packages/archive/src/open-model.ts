import type { OpenedArchive } from './archive.js';
import type { UnpackCache } from './unpack-cache.js';
import { resolveModelSources } from './raw-onnx.js';

/** One model version ready to register, and what its files hold that will not be acted on. */
export interface OpenedModel {
  archive: OpenedArchive;
  warnings: string[];
}

/**
 * Opens what a model path names: an archive or archive folder (through the unpack cache, so pair each
 * result with one `unpacked.release`), or a model without an archive (raw-onnx.ts), which may serve
 * several versions. If a later one fails to open, those already opened are released.
 */
export async function openModels(path: string, nameHint: string | undefined, unpacked: UnpackCache): Promise<OpenedModel[]> {
  const out: OpenedModel[] = [];
  try {
    for (const source of await resolveModelSources(path, nameHint)) {
      if (source.kind === 'raw') out.push({ archive: source.opened, warnings: source.warnings });
      else out.push({ archive: await unpacked.open(source.path), warnings: [] });
    }
  } catch (err) {
    for (const o of out) await unpacked.release(o.archive);
    throw err;
  }
  return out;
}
