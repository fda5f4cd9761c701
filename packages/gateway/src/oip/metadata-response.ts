import type { ModelRegistry } from '../registry/model-registry.js';
import type { ModelVersion } from '../models/model-version.js';
import { assertReady, metadataOf } from './model-state.js';

/** The Open Inference Protocol's model metadata response (REST `GET /v2/models/{m}` and gRPC ModelMetadata). */
export interface ModelMetadataResponse {
  name: string;
  versions: string[];
  platform: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
}

/**
 * A version's signature as its workers reported it; MODEL_NOT_READY while no worker has ever loaded it
 * (nothing to report yet).
 */
export function modelMetadataResponse(registry: ModelRegistry, version: ModelVersion): ModelMetadataResponse {
  const meta = metadataOf(version);
  if (!meta) assertReady(version);
  return {
    name: version.name,
    versions: registry.versionsOf(version.name).map((v) => v.version),
    platform: meta?.platform ?? 'node',
    inputs: meta?.inputs ?? [],
    outputs: meta?.outputs ?? [],
  };
}
