import { ModelServerError, type ModelMetadata } from '@model-server/protocol';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { ModelVersion } from '../models/model-version.js';

const lastKnown = new WeakMap<ModelVersion, ModelMetadata>();

/**
 * The model's inputs and outputs as its workers reported them. Remembered per version, so metadata
 * stays available while every worker of the version is restarting.
 */
export function metadataOf(version: ModelVersion): ModelMetadata | undefined {
  for (const worker of version.pool.workers) {
    if (worker.modelMetadata) {
      lastKnown.set(version, worker.modelMetadata);
      return worker.modelMetadata;
    }
  }
  return lastKnown.get(version);
}

/** Ready to infer: at least one worker has the model loaded and the version is not being removed. */
export function isReady(version: ModelVersion): boolean {
  return version.accepting && version.pool.liveCount > 0;
}

/** 503 MODEL_NOT_READY unless the version can serve now. */
export function assertReady(version: ModelVersion): void {
  if (isReady(version)) return;
  const reason = !version.accepting
    ? 'it is being unregistered or the server is shutting down'
    : version.pool.failed
      ? 'its workers failed to start'
      : version.pool.target === 0
        ? 'it has no workers (scale it up)'
        : 'no worker has loaded it yet';
  throw new ModelServerError('MODEL_NOT_READY', { model: version.name, version: version.version, reason });
}

/**
 * Server readiness (OIP `health/ready`, gRPC ServerReady and Health/Check): once the startup models have
 * loaded and every registered version has a live worker. `reason` says why not.
 */
export function serverReadiness(ctx: {
  readonly registry: ModelRegistry;
  readonly startupComplete: boolean;
  readonly draining: boolean;
  readonly startupFailures: readonly { url: string; reason: string }[];
}): { ready: true } | { ready: false; reason: string } {
  if (ctx.draining) return { ready: false, reason: 'the server is shutting down' };
  if (!ctx.startupComplete) return { ready: false, reason: 'models are still loading' };
  if (ctx.startupFailures.length > 0) {
    return { ready: false, reason: `models failed to load at start: ${ctx.startupFailures.map((f) => `${f.url} (${f.reason})`).join('; ')}` };
  }
  const waiting = ctx.registry.all().filter((v) => !isReady(v));
  if (waiting.length === 0) return { ready: true };
  return { ready: false, reason: `not ready: ${waiting.map((v) => `${v.name}/${v.version}`).join(', ')}` };
}
