import express, { type Express } from 'express';
import type { GatewayContext } from '../gateway-context.js';
import { errorMiddleware, notFoundOrMethod } from './express-errors.js';

/** The metrics API (port 8082). */
export function createMetricsApp(_ctx: GatewayContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4; charset=utf-8').send('');
  });
  app.use(notFoundOrMethod([/^\/metrics$/]));
  app.use(errorMiddleware());
  return app;
}
