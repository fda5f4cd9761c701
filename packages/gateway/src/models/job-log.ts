import type { Logger } from '../logging/logger.js';
import type { InferenceJob } from '../scheduling/job.js';

/**
 * One line per request that did not succeed, at the level its status calls for (as fastify does):
 * a server-side failure (5xx) at error, with the handler's stack as the worker reported it
 * (source-mapped, so it points at the handler's .ts line); a client's error (4xx) at info; a client
 * that went away at debug. Each line names the model and version (the logger's bindings), the
 * request's public id and the job's own.
 */
export function logJobEnd(logger: Logger, job: InferenceJob): void {
  if (job.state === 'done') return;
  if (job.state === 'cancelled') {
    logger.debug({ requestId: job.requestId, job: job.id }, 'request cancelled by the client');
    return;
  }
  const err = job.error;
  if (!err) return;
  const fields: Record<string, unknown> = { requestId: job.requestId, job: job.id, code: err.code, status: err.status };
  if (err.status >= 500) {
    if (err.workerStack) fields['stack'] = err.workerStack;
    logger.error(fields, `request failed: ${err.message}`);
  } else {
    logger.info(fields, `request refused: ${err.message}`);
  }
}
