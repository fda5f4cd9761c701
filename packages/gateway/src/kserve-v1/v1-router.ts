import express, { type Request, type Response, type Router } from 'express';
import { ModelServerError } from '@model-server/protocol';
import type { GatewayContext } from '../gateway-context.js';
import { CollectSink } from '../http/collect-sink.js';
import { jsonBody } from '../http/json-body.js';
import { noteRequest } from '../logging/access-log.js';
import { isKnownPath, KNOWN_PATHS, V1_VERB_PATH } from '../routing/routes.js';
import { errorFromPart } from '../oip/handler-answer.js';
import { flattenHeaders } from '../http/predictions.js';
import { publicRequestId, REQUEST_ID_HEADER, submitJob } from '../scheduling/submit-job.js';
import { NO_CACHE_HEADERS } from '../http/send-error.js';
import { oipErrorMiddleware, sendOipError } from '../http/send-oip-error.js';
import type { InferenceJob } from '../scheduling/job.js';
import { assertReady } from '../oip/model-state.js';
import { instanceInputs, predictionValue } from './instances.js';
import { isOipRequest, oipInputs } from './oip-inputs.js';

const VERB_PATH = V1_VERB_PATH;

/**
 * KServe's v1 protocol (TF Serving's REST shape): `{"instances": [...]}` in, `{"predictions": [...]}`
 * or `{"explanations": [...]}` out, one per instance. Each instance is its own job on the model's queue,
 * so instances batch with each other and with every other API's requests. Errors are `{"error": "..."}`.
 */
export function createV1Router(ctx: GatewayContext): Router {
  const router = express.Router();
  const parseJson = jsonBody({ maxBytes: ctx.config.max_request_size });

  router.get('/models', (_req, res) => {
    res.json({ models: ctx.registry.names() });
  });

  const status = (req: Request, res: Response): void => {
    const { model, version } = req.params as { model: string; version?: string };
    if (model.includes(':')) throw new ModelServerError('METHOD_NOT_ALLOWED');
    const target = ctx.registry.resolve(model, version);
    try {
      assertReady(target);
    } catch (err) {
      sendOipError(res, err, {}, { name: target.name, ready: false });
      return;
    }
    res.json({ name: target.name, ready: true });
  };
  router.get('/models/:model', status);
  router.get('/models/:model/versions/:version', status);

  router.post(VERB_PATH, (req, _res, next) => {
    // Resolve before reading the body, so an unknown model costs no upload.
    const [, model, version] = VERB_PATH.exec(req.path)!;
    ctx.registry.resolve(model!, version);
    next();
  });
  router.post(VERB_PATH, parseJson, async (req, res) => {
    const [, model, version, verb] = VERB_PATH.exec(req.path)!;
    const target = ctx.registry.resolve(model!, version);
    const kind = verb === 'explain' ? 'explain' : 'predict';
    const body = req.body as { instances?: unknown } | undefined;
    const oip = isOipRequest(body) ? [oipInputs(body)] : undefined;
    if (!oip && (!body || typeof body !== 'object' || !Array.isArray(body.instances))) {
      const columnar = body && typeof body === 'object' && 'inputs' in body;
      throw new ModelServerError('INVALID_INPUT', {
        reason: columnar
          ? 'the columnar "inputs" form is not supported; send {"instances": [...]}, or an Open Inference Protocol request ("inputs": [{"name", "datatype", "shape", "data"}])'
          : 'the body must be {"instances": [...]}',
      });
    }
    const instances = (body as { instances?: unknown[] }).instances;
    if (!oip && instances!.length === 0) throw new ModelServerError('INVALID_INPUT', { reason: '"instances" is empty' });
    const perInstance = oip ?? instances!.map(instanceInputs);
    const headers = flattenHeaders(req);
    headers['explain'] = kind === 'explain' ? 'True' : 'False';
    // The inference app gave the response its public id (the client's own when safe).
    const requestId = String(res.getHeader(REQUEST_ID_HEADER) ?? publicRequestId(req.headers[REQUEST_ID_HEADER]));
    noteRequest(res, target.name, requestId);
    const sinks: CollectSink[] = [];
    const jobs: InferenceJob[] = [];
    try {
      for (const inputs of perInstance) {
        const sink = new CollectSink();
        // Each instance is its own job, each with a copy of the headers (submitJob writes the request id).
        jobs.push(submitJob(ctx.registry, { kind, model: target.name, version: target.version, headers: { ...headers }, inputs, sink, requestId }));
        sinks.push(sink);
      }
    } catch (err) {
      for (const job of jobs) job.cancel('another instance of the request was refused');
      throw err;
    }
    res.on('close', () => {
      if (!res.writableFinished) for (const job of jobs) job.cancel('client disconnected');
    });
    const outcomes = await Promise.all(sinks.map((s) => s.outcome));
    const values: unknown[] = [];
    for (const outcome of outcomes) {
      if (!outcome.ok) {
        for (const job of jobs) job.cancel('another instance failed');
        sendOipError(res, outcome.error, { ...NO_CACHE_HEADERS });
        return;
      }
      if (outcome.part.status >= 400) {
        for (const job of jobs) job.cancel('another instance failed');
        sendOipError(res, errorFromPart(outcome.part)!, { ...NO_CACHE_HEADERS });
        return;
      }
      values.push(predictionValue(outcome.part));
    }
    res.set(NO_CACHE_HEADERS).json(kind === 'explain' ? { explanations: values } : { predictions: values });
  });

  router.use((req, _res, next) => {
    const known = isKnownPath(KNOWN_PATHS.v1, req.path);
    next(new ModelServerError(known ? 'METHOD_NOT_ALLOWED' : 'RESOURCE_NOT_FOUND'));
  });
  router.use(oipErrorMiddleware());
  return router;
}
