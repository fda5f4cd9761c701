import express, { type Express } from 'express';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { KNOWN_PATHS } from '../routing/routes.js';
import { errorMiddleware, notFoundOrMethod } from './express-errors.js';

/**
 * The metrics API (port 8082, no token, as TorchServe): `GET /metrics` in Prometheus text format 0.0.4,
 * filtered by repeated `name[]` parameters like TorchServe's.
 */
export function createMetricsApp(ctx: { metrics: GatewayMetrics }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/metrics', async (req, res) => {
    const names = new URL(req.originalUrl, 'http://metrics').searchParams.getAll('name[]');
    const body = await ctx.metrics.render(names);
    res.status(200).type(ctx.metrics.contentType).send(body);
  });
  app.use(notFoundOrMethod(KNOWN_PATHS.metrics));
  app.use(errorMiddleware());
  return app;
}
