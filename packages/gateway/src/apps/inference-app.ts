import express, { type Express } from 'express';
import type { GatewayContext } from '../gateway-context.js';
import { buildInferenceOpenApi } from '../openapi/inference-api.js';
import { errorMiddleware, notFoundOrMethod } from './express-errors.js';

/**
 * Everything on the inference port except the hot routes (which never reach express): health and the
 * API description.
 */
export function createInferenceApp(ctx: GatewayContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/ping', (_req, res) => {
    const healthy = ctx.registry.defaults().every((v) => v.healthy);
    res.status(healthy ? 200 : 500).json({ status: healthy ? 'Healthy' : 'Unhealthy' });
  });

  const describe = (_req: express.Request, res: express.Response): void => {
    res.json(buildInferenceOpenApi(ctx));
  };
  app.options('/', describe);
  app.get('/api-description', describe);
  app.options('/predictions/:model', describe);
  app.options('/predictions/:model/:version', describe);

  for (const fn of ctx.extraInferenceRoutes) fn(app);

  app.use(notFoundOrMethod([/^\/$/, /^\/ping$/, /^\/api-description$/, /^\/(predictions|explanations)\//]));
  app.use(errorMiddleware());
  return app;
}
