import { publicRequestId, REQUEST_ID_HEADER } from '../scheduling/submit-job.js';
import express, { type Express } from 'express';
import { serverHealthy, type GatewayContext } from '../gateway-context.js';
import { createV1Router } from '../kserve-v1/v1-router.js';
import { buildInferenceOpenApi } from '../openapi/inference-api.js';
import { createV2Router } from '../oip/v2-router.js';
import { KNOWN_PATHS } from '../routing/routes.js';
import { errorMiddleware, notFoundOrMethod } from './express-errors.js';

/**
 * Everything on the inference port except the hot routes (which never reach express): health, the
 * API description, KServe v1 and the Open Inference Protocol's non-infer routes.
 */
export function createInferenceApp(ctx: GatewayContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // TorchServe puts a request id on every inference-port response, errors and descriptions included.
  app.use((req, res, next) => {
    res.setHeader(REQUEST_ID_HEADER, publicRequestId(req.headers[REQUEST_ID_HEADER]));
    next();
  });
  app.set('etag', false);

  // A server that is shutting down answers 503 (not TorchServe's 500), so load balancers stop at once.
  app.get('/ping', (_req, res) => {
    const healthy = serverHealthy(ctx);
    res.status(healthy ? 200 : ctx.draining ? 503 : 500).json({ status: healthy ? 'Healthy' : 'Unhealthy' });
  });

  // KServe v1's server liveness: its clients (a transformer's predictor health check, the SDK's
  // wait_model_ready) read {"status": "alive"} from GET /.
  app.get('/', (_req, res) => {
    res.json({ status: 'alive' });
  });

  const describe = (_req: express.Request, res: express.Response): void => {
    res.json(buildInferenceOpenApi(ctx));
  };
  app.options('/', describe);
  app.get('/api-description', describe);
  app.options('/predictions/:model', describe);
  app.options('/predictions/:model/:version', describe);

  // KServe v1 and the Open Inference Protocol (v2) answer their own errors as {"error": "..."}.
  app.use('/v1', createV1Router(ctx));
  app.use('/v2', createV2Router(ctx));

  app.use(notFoundOrMethod(KNOWN_PATHS.inference));
  app.use(errorMiddleware());
  return app;
}
