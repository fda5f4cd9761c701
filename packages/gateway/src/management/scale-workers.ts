import { ModelServerError } from '@model-server/protocol';
import type { ManagementContext } from './management-context.js';
import type { Params } from './params.js';
import type { StatusReply } from './register-model.js';

/**
 * `PUT /models/{m}[/{v}]`: TorchServe's scale-workers semantics. There is no autoscaling: below
 * `min_worker` workers are added up to it, above `max_worker` the surplus is stopped (idle workers
 * first, busy ones after their batch), in between nothing changes. `synchronous` defaults to false.
 */
export async function scaleWorkers(ctx: ManagementContext, name: string, pathVersion: string | undefined, params: Params): Promise<StatusReply> {
  const version = pathVersion ?? params.string('model_version');
  const target = ctx.registry.resolve(name, version);
  const bound = ctx.config.max_workers_per_model;
  const min = params.workers('min_worker', bound) ?? 1;
  const max = params.workers('max_worker', bound) ?? min;
  if (max < min) throw new ModelServerError('BAD_REQUEST', { reason: 'max_worker cannot be less than min_worker.' });
  const synchronous = params.bool('synchronous') ?? false;

  const current = target.pool.activeCount;
  const desired = current < min ? min : current > max ? max : current;
  target.settings = Object.freeze({ ...target.settings, minWorkers: min, maxWorkers: max });
  const errorBefore = target.pool.lastError;
  const scaling = target.pool.scaleTo(desired);
  ctx.modelsChanged();
  if (!synchronous) {
    void scaling;
    return { status: 202, message: 'Processing worker updates...' };
  }
  await scaling;
  // A DELETE while the workers started: the model the call scaled is gone (and the name may belong to
  // a newer registration by now).
  if (ctx.registry.find(target.name, target.version) !== target) {
    throw new ModelServerError('CONFLICT', { reason: `Model "${target.name}" Version: ${target.version} was unregistered while its workers were being scaled` });
  }
  const live = target.pool.liveCount;
  if (live >= desired) {
    return { status: 200, message: `Workers scaled to ${desired} for model: ${name}${version === undefined ? '' : `, version: ${version}`}` };
  }
  const error = target.pool.lastError;
  if (error && error !== errorBefore) {
    throw new ModelServerError('WORKERS_START_FAILED', { model: target.name, version: target.version, reason: error.message });
  }
  return { status: 206, message: 'Workers scaling in progress...' };
}
