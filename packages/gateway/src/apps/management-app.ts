import express, { type Express, type Request, type Response } from 'express';
import { ModelServerError } from '@model-server/protocol';
import { AllowedUrls } from '../management/allowed-urls.js';
import { jsonBody } from '../http/json-body.js';
import { describeVersions } from '../management/describe-model.js';
import { listModelsPage } from '../management/list-models.js';
import type { ManagementContext } from '../management/management-context.js';
import { Params } from '../management/params.js';
import { registerModel, type StatusReply } from '../management/register-model.js';
import { scaleWorkers } from '../management/scale-workers.js';
import { setDefaultVersion } from '../management/set-default.js';
import { unregisterModel } from '../management/unregister-model.js';
import { buildManagementOpenApi } from '../openapi/management-api.js';
import { KNOWN_PATHS } from '../routing/routes.js';
import { statusRoutes } from '../dashboard/status-routes.js';
import { mountWorkflowManagement } from '../workflows/routes.js';
import { errorMiddleware, notFoundOrMethod } from './express-errors.js';

/** Registration parameters as a JSON body are a few hundred bytes; this is generous. */
const MAX_PARAMS_BODY_BYTES = 1024 * 1024;

function reply(res: Response, r: StatusReply): void {
  res.status(r.status).json({ status: r.message });
}

/**
 * The management API (port 8081), TorchServe's routes and answers: list, describe, register, scale,
 * set-default, unregister, the same for workflows, and key regeneration. Register and unregister need
 * `enable_model_api`.
 */
export function createManagementApp(ctx: ManagementContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const allowed = new AllowedUrls(ctx.config.allowed_urls);
  const describeApi = (_req: Request, res: Response): void => {
    res.json(buildManagementOpenApi(ctx));
  };
  app.options('/', describeApi);
  app.get('/api-description', describeApi);

  app.get('/models', (req, res) => {
    res.json(listModelsPage(ctx.registry, Params.fromRequest(req)));
  });

  app.post('/models', jsonBody({ maxBytes: MAX_PARAMS_BODY_BYTES, onlyJsonContentType: true }), async (req, res) => {
    reply(res, await registerModel(ctx, Params.fromRequest(req), allowed));
  });

  app.get('/models/:model', async (req, res) => {
    res.json(await describeVersions(ctx, req.params.model, undefined));
  });
  app.get('/models/:model/:version', async (req, res) => {
    res.json(await describeVersions(ctx, req.params.model, req.params.version));
  });

  app.put('/models/:model/:version/set-default', (req, res) => {
    reply(res, setDefaultVersion(ctx, req.params.model, req.params.version));
  });
  app.put('/models/:model', async (req, res) => {
    reply(res, await scaleWorkers(ctx, req.params.model, undefined, Params.fromRequest(req)));
  });
  app.put('/models/:model/:version', async (req, res) => {
    reply(res, await scaleWorkers(ctx, req.params.model, req.params.version, Params.fromRequest(req)));
  });

  app.delete('/models/:model', async (req, res) => {
    reply(res, await unregisterModel(ctx, req.params.model, undefined));
  });
  app.delete('/models/:model/:version', async (req, res) => {
    reply(res, await unregisterModel(ctx, req.params.model, req.params.version));
  });

  mountWorkflowManagement(app, ctx, allowed);

  app.get('/token', async (req, res) => {
    const type = Params.fromRequest(req).string('type');
    if (type !== 'management' && type !== 'inference') {
      throw new ModelServerError('BAD_REQUEST', { reason: `Parameter type must be management or inference (got "${type ?? ''}")` });
    }
    if (!ctx.tokens) throw new ModelServerError('BAD_REQUEST', { reason: 'Token authorization is disabled' });
    await ctx.tokens.regenerate(type);
    res.status(200).end();
  });

  app.use(statusRoutes(ctx));

  app.use(notFoundOrMethod(KNOWN_PATHS.management));
  app.use(errorMiddleware());
  return app;
}
