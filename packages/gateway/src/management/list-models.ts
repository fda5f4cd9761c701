import type { ModelRegistry } from '../registry/model-registry.js';
import { Params } from './params.js';

/**
 * One page of `GET /models` (and gRPC ListModels): models in name order, paged by `limit` and
 * `next_page_token` as TorchServe reads them (Params.page, shared with `GET /workflows`).
 */
export function listModelsPage(registry: ModelRegistry, params: Params): Record<string, unknown> {
  const { items, nextPageToken } = params.page(registry.names());
  const body: Record<string, unknown> = nextPageToken === undefined ? {} : { nextPageToken };
  body['models'] = items.map((modelName) => ({ modelName, modelUrl: registry.find(modelName)?.url }));
  return body;
}
