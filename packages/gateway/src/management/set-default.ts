import type { ManagementContext } from './management-context.js';
import type { StatusReply } from './register-model.js';

/** `PUT /models/{m}/{v}/set-default` (and gRPC SetDefault): MODEL_NOT_FOUND / MODEL_VERSION_NOT_FOUND otherwise. */
export function setDefaultVersion(ctx: ManagementContext, model: string, version: string): StatusReply {
  ctx.registry.setDefault(model, version);
  ctx.modelsChanged();
  return { status: 200, message: `Default version successfully updated for model "${model}" to "${version}"` };
}
