import express, { type Express } from 'express';
import type { GatewayContext } from '../gateway-context.js';
import { errorMiddleware, notFoundOrMethod } from './express-errors.js';

/** The management API (port 8081): list and describe models. */
export function createManagementApp(ctx: GatewayContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/models', (_req, res) => {
    res.json({ models: ctx.registry.names().map((modelName) => ({ modelName, modelUrl: ctx.registry.find(modelName)?.url })) });
  });
  app.use(notFoundOrMethod([/^\/models(\/.*)?$/]));
  app.use(errorMiddleware());
  return app;
}
