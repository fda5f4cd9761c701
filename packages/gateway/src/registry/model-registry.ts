import { ModelServerError } from '@model-server/protocol';
import type { ModelVersion } from '../models/model-version.js';

interface ModelEntry {
  versions: Map<string, ModelVersion>;
  defaultVersion: string;
}

/** Every registered model and its versions; the first version registered is the default. */
export class ModelRegistry {
  private readonly models = new Map<string, ModelEntry>();
  /**
   * Set while the start-up models load (the listeners are open by then, for the probes): a name not
   * registered yet may be one of them, so a request for it is "not ready, retry later" (503
   * SERVER_NOT_READY, which a load balancer retries on another replica), not 404. Measured: a replica
   * restarted behind nginx answered 7 requests 404 MODEL_NOT_FOUND before this.
   */
  loading = false;

  add(version: ModelVersion, makeDefault = false): void {
    const entry = this.models.get(version.name);
    if (!entry) {
      this.models.set(version.name, { versions: new Map([[version.version, version]]), defaultVersion: version.version });
      return;
    }
    if (entry.versions.has(version.version)) {
      throw new ModelServerError('CONFLICT', { reason: `Model version ${version.version} is already registered for model ${version.name}` });
    }
    entry.versions.set(version.version, version);
    if (makeDefault) entry.defaultVersion = version.version;
  }

  remove(name: string, version: string): void {
    const entry = this.models.get(name);
    if (!entry) return;
    entry.versions.delete(version);
    if (entry.versions.size === 0) this.models.delete(name);
    else if (entry.defaultVersion === version) entry.defaultVersion = [...entry.versions.keys()][0]!;
  }

  setDefault(name: string, version: string): void {
    const entry = this.models.get(name);
    if (!entry) throw new ModelServerError('MODEL_NOT_FOUND', { model: name });
    if (!entry.versions.has(version)) throw new ModelServerError('MODEL_VERSION_NOT_FOUND', { model: name, version });
    entry.defaultVersion = version;
  }

  /** The version asked for, or the default one; throws MODEL_NOT_FOUND / MODEL_VERSION_NOT_FOUND (SERVER_NOT_READY while loading). */
  resolve(name: string, version?: string): ModelVersion {
    const entry = this.models.get(name);
    if (!entry) {
      throw this.loading ? new ModelServerError('SERVER_NOT_READY', { reason: 'its start-up models are still loading' }) : new ModelServerError('MODEL_NOT_FOUND', { model: name });
    }
    const found = entry.versions.get(version ?? entry.defaultVersion);
    if (!found) throw new ModelServerError('MODEL_VERSION_NOT_FOUND', { model: name, version });
    return found;
  }

  find(name: string, version?: string): ModelVersion | undefined {
    const entry = this.models.get(name);
    return entry?.versions.get(version ?? entry.defaultVersion);
  }

  defaultVersionOf(name: string): string | undefined {
    return this.models.get(name)?.defaultVersion;
  }

  names(): string[] {
    return [...this.models.keys()].sort();
  }

  versionsOf(name: string): ModelVersion[] {
    return [...(this.models.get(name)?.versions.values() ?? [])];
  }

  all(): ModelVersion[] {
    return [...this.models.values()].flatMap((e) => [...e.versions.values()]);
  }

  /** The default versions, which decide /ping as in TorchServe. */
  defaults(): ModelVersion[] {
    return [...this.models.values()].map((e) => e.versions.get(e.defaultVersion)!);
  }
}
