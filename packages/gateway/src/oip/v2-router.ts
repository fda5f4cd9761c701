import express, { type Request, type Response, type Router } from 'express';
import { ModelServerError } from '@model-server/protocol';
import type { GatewayContext } from '../gateway-context.js';
import { oipErrorMiddleware, sendOipError } from '../http/send-oip-error.js';
import type { ModelVersion } from '../models/model-version.js';
import { modelMetadataResponse } from './metadata-response.js';
import { assertReady, serverReadiness } from './model-state.js';
import { isKnownPath, KNOWN_PATHS } from '../routing/routes.js';
import { tritonModelConfig } from './triton-config.js';
import { statsVersions, tritonModelStats } from './triton-stats.js';

/** The name `GET /v2` reports. */
export const SERVER_NAME = 'model-server';

/** What `GET /v2` lists in `extensions`: Triton's names for the extensions served here. */
export const OIP_EXTENSIONS = ['binary_tensor_data', 'model_configuration', 'statistics', 'sequence', 'sequence(string_id)'] as const;

function versionOf(ctx: GatewayContext, req: Request): ModelVersion {
  const { model, version } = req.params as { model: string; version?: string };
  return ctx.registry.resolve(model, version);
}

/**
 * The Open Inference Protocol's REST API (KServe v2) apart from `infer`, which is a hot route: health,
 * server and model metadata, model readiness, and Triton's model configuration and statistics
 * extensions. Errors are `{"error": "..."}` from the error catalog; not ready is 503.
 */
export function createV2Router(ctx: GatewayContext): Router {
  const router = express.Router();

  router.get('/', (_req, res) => {
    res.json({ name: SERVER_NAME, version: ctx.version, extensions: OIP_EXTENSIONS });
  });

  router.get('/health/live', (_req, res) => {
    res.json({ live: true });
  });

  router.get('/health/ready', (_req, res) => {
    const readiness = serverReadiness(ctx);
    if (readiness.ready) {
      res.json({ ready: true });
      return;
    }
    sendOipError(res, new ModelServerError('SERVER_NOT_READY', { reason: readiness.reason }), {}, { ready: false });
  });

  router.get('/models', (_req, res) => {
    res.json({ models: ctx.registry.names() });
  });

  router.get('/models/stats', (_req, res) => {
    res.json({ model_stats: ctx.registry.all().map(tritonModelStats) });
  });

  const metadata = (req: Request, res: Response): void => {
    res.json(modelMetadataResponse(ctx.registry, versionOf(ctx, req)));
  };
  const ready = (req: Request, res: Response): void => {
    const version = versionOf(ctx, req);
    try {
      assertReady(version);
    } catch (err) {
      sendOipError(res, err, {}, { name: version.name, ready: false });
      return;
    }
    res.json({ name: version.name, ready: true });
  };
  const config = (req: Request, res: Response): void => {
    res.json(tritonModelConfig(versionOf(ctx, req)));
  };
  const stats = (req: Request, res: Response): void => {
    const { model, version } = req.params as { model: string; version?: string };
    res.json({ model_stats: statsVersions(ctx.registry, model, version).map(tritonModelStats) });
  };

  for (const prefix of ['/models/:model', '/models/:model/versions/:version']) {
    router.get(prefix, metadata);
    router.get(`${prefix}/ready`, ready);
    router.get(`${prefix}/config`, config);
    router.get(`${prefix}/stats`, stats);
  }

  router.use((req, _res, next) => {
    next(new ModelServerError(isKnownPath(KNOWN_PATHS.v2, req.path) ? 'METHOD_NOT_ALLOWED' : 'RESOURCE_NOT_FOUND'));
  });
  router.use(oipErrorMiddleware());
  return router;
}
