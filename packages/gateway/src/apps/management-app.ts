import express, { type Express, type Request, type Response } from 'express';
import { ModelServerError } from '@model-server/protocol';
import { AllowedUrls } from '../management/allowed-urls.js';
import { jsonBody } from '../http/json-body.js';
import { describeModel } from '../management/describe-model.js';
import type { ManagementContext } from '../management/management-context.js';
import { Params } from '../management/params.js';
import { registerModel, type StatusReply } from '../management/register-model.js';
import { scaleWorkers } from '../management/scale-workers.js';
import { unregisterModel } from '../management/unregister-model.js';
import { buildManagementOpenApi } from '../openapi/management-api.js';
import { KNOWN_PATHS } from '../routing/routes.js';
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
    const { items, nextPageToken } = new Params(req).page(ctx.registry.names());
    const body: Record<string, unknown> = nextPageToken === undefined ? {} : { nextPageToken };
    body['models'] = items.map((modelName) => ({ modelName, modelUrl: ctx.registry.find(modelName)?.url }));
    res.json(body);
  });

  app.post('/models', jsonBody({ maxBytes: MAX_PARAMS_BODY_BYTES, onlyJsonContentType: true }), async (req, res) => {
    reply(res, await registerModel(ctx, new Params(req), allowed));
  });

  app.get('/models/:model', async (req, res) => {
    const v = ctx.registry.resolve(req.params.model);
    res.json([await describeModel(v, ctx.loadedAtStartup(v))]);
  });
  app.get('/models/:model/:version', async (req, res) => {
    const { model, version } = req.params;
    const versions = version === 'all' ? ctx.registry.versionsOf(model) : [ctx.registry.resolve(model, version)];
    if (versions.length === 0) throw new ModelServerError('MODEL_NOT_FOUND', { model });
    res.json(await Promise.all(versions.map((v) => describeModel(v, ctx.loadedAtStartup(v)))));
  });

  app.put('/models/:model/:version/set-default', (req, res) => {
    const { model, version } = req.params;
    ctx.registry.setDefault(model, version);
    ctx.modelsChanged();
    reply(res, { status: 200, message: `Default version successfully updated for model "${model}" to "${version}"` });
  });
  app.put('/models/:model', async (req, res) => {
    reply(res, await scaleWorkers(ctx, req.params.model, undefined, new Params(req)));
  });
  app.put('/models/:model/:version', async (req, res) => {
    reply(res, await scaleWorkers(ctx, req.params.model, req.params.version, new Params(req)));
  });

  app.delete('/models/:model', async (req, res) => {
    reply(res, await unregisterModel(ctx, req.params.model, undefined));
  });
  app.delete('/models/:model/:version', async (req, res) => {
    reply(res, await unregisterModel(ctx, req.params.model, req.params.version));
  });

  mountWorkflowManagement(app, ctx, allowed);

  app.get('/token', async (req, res) => {
    const type = new Params(req).string('type');
    if (type !== 'management' && type !== 'inference') {
      throw new ModelServerError('BAD_REQUEST', { reason: `Parameter type must be management or inference (got "${type ?? ''}")` });
    }
    if (!ctx.tokens) throw new ModelServerError('BAD_REQUEST', { reason: 'Token authorization is disabled' });
    await ctx.tokens.regenerate(type);
    res.status(200).end();
  });

  app.use(notFoundOrMethod(KNOWN_PATHS.management));
  app.use(errorMiddleware());
  return app;
}
