import { ModelServerError } from '@model-server/protocol';
import { clearTimer, setTimer, type Timer } from '../scheduling/timers.js';
import type { ManagementContext } from './management-context.js';
import type { StatusReply } from './register-model.js';

const MS_PER_S = 1000;

/**
 * `DELETE /models/{m}[/{v}]`: refuses the default version while others exist (403, as TorchServe)
 * and a model serving a workflow's node (403: it goes with its workflow),
 * then drains: queued requests are answered, running batches finish within
 * `unregister_model_timeout`; past that the answer is 408 and the workers are terminated.
 */
export async function unregisterModel(ctx: ManagementContext, name: string, version: string | undefined): Promise<StatusReply> {
  if (!ctx.config.enable_model_api) throw new ModelServerError('MODEL_API_DISABLED');
  const target = ctx.registry.resolve(name, version);
  const workflow = ctx.workflows.ownerOf(name);
  if (workflow !== undefined) {
    throw new ModelServerError('FORBIDDEN', { reason: `Model ${name} serves a node of workflow ${workflow}; unregister the workflow instead (DELETE /workflows/${workflow})` });
  }
  if (ctx.registry.defaultVersionOf(name) === target.version && ctx.registry.versionsOf(name).length > 1) {
    throw new ModelServerError('FORBIDDEN', { reason: `Cannot remove default version for model ${name}` });
  }
  const graceMs = ctx.config.unregister_model_timeout * MS_PER_S;
  let timer: Timer | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimer(() => resolve('timeout'), graceMs);
  });
  const draining = ctx.unregister(name, target.version, graceMs);
  ctx.modelsChanged();
  try {
    if ((await Promise.race([draining.then(() => 'done' as const), timedOut])) === 'timeout') {
      throw new ModelServerError('UNREGISTER_TIMEOUT', { model: name });
    }
  } finally {
    clearTimer(timer);
  }
  return { status: 200, message: `Model "${name}" unregistered` };
}
