import type { ModelRegistry } from '../registry/model-registry.js';

/** TorchServe's page size bounds for listing models. */
const MAX_PAGE_SIZE = 100;

/**
 * One page of `GET /models` (and gRPC ListModels): models in name order from `offset`, at most `limit`
 * of them, with `nextPageToken` while more follow. A limit that is absent or outside 0..100 means 100
 * and a bad offset means 0, as in TorchServe.
 */
export function listModelsPage(registry: ModelRegistry, limit: number | undefined, offset: number | undefined): Record<string, unknown> {
  const names = registry.names();
  const size = limit !== undefined && Number.isInteger(limit) && limit >= 0 && limit <= MAX_PAGE_SIZE ? limit : MAX_PAGE_SIZE;
  const from = offset !== undefined && Number.isInteger(offset) && offset >= 0 ? offset : 0;
  const body: Record<string, unknown> = {};
  if (from + size < names.length) body['nextPageToken'] = String(from + size);
  body['models'] = names.slice(from, from + size).map((modelName) => ({ modelName, modelUrl: registry.find(modelName)?.url }));
  return body;
}
