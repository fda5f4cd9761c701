import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModelServerError } from '@model-server/protocol';
import type { TokenGuard } from '../auth/token-guard.js';
import { handlePrediction, type PredictionDeps } from '../http/predictions.js';
import { sendError } from '../http/send-error.js';
import { sendOipError } from '../http/send-oip-error.js';
import { pathSegments } from '../http/url.js';
import type { AccessLog } from '../logging/access-log.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { publicRequestId, REQUEST_ID_HEADER } from '../scheduling/submit-job.js';
import { handleV2Infer } from '../oip/infer-route.js';
import { handleWorkflowPrediction, type WorkflowPredictionDeps } from '../workflows/routes.js';
import { hotRoute, usesOipErrors } from './routes.js';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface ListenerDeps {
  guard: () => TokenGuard;
  metrics: GatewayMetrics;
  accessLog: AccessLog | undefined;
}

/**
 * What every listener does first, for every request: count the response (Requests2XX/4XX/5XX) and
 * log it in the access log. (Closing connections during a drain is the response class's part:
 * http/closing-responses.ts.)
 */
function prelude(deps: ListenerDeps, count: (this: ServerResponse) => void): (res: ServerResponse) => void {
  const { accessLog } = deps;
  return (res) => {
    // 'finish' fires once per response; `on` spares `once`'s wrapper (no closure per request).
    res.on('finish', count);
    accessLog?.track(res);
  };
}

/**
 * The inference port: token check, then the hot routes on plain node:http (no framework runs per
 * prediction or workflow request), then the express app for everything else. WebSocket upgrades bypass this (see
 * http/websocket.ts, which runs the same token check).
 */
export function inferenceListener(deps: ListenerDeps, hot: PredictionDeps, app: RequestListener, workflows: WorkflowPredictionDeps): RequestListener {
  const metrics = deps.metrics;
  const begin = prelude(deps, function (this: ServerResponse): void {
    metrics.countResponse('inference', this.statusCode);
  });
  return (req, res) => {
    begin(res);
    const denied = deps.guard().check(req, 'inference');
    if (denied) {
      // KServe v1 and OIP clients expect their own error body, `{"error": ...}`.
      const id = { [REQUEST_ID_HEADER]: publicRequestId(req.headers[REQUEST_ID_HEADER]) };
      if (usesOipErrors(req.url)) sendOipError(res, denied, id);
      else sendError(res, denied, id);
      return;
    }
    const segments = pathSegments(req.url);
    if (!segments) {
      sendError(res, new ModelServerError('BAD_REQUEST', { reason: 'Invalid URL encoding' }));
      return;
    }
    const route = hotRoute(req.method, segments);
    if (route?.kind === 'v2-infer') void handleV2Infer(hot, req, res, route);
    else if (route?.kind === 'wfpredict') handleWorkflowPrediction(workflows, req, res, route.segments);
    else if (route) handlePrediction(hot, req, res, route.kind, route.segments);
    else app(req, res);
  };
}

/** The management port: the management key, then TorchServe's management API (express). */
export function managementListener(deps: ListenerDeps, app: RequestListener): RequestListener {
  const metrics = deps.metrics;
  const begin = prelude(deps, function (this: ServerResponse): void {
    metrics.countResponse('management', this.statusCode);
  });
  return (req, res) => {
    begin(res);
    const denied = deps.guard().check(req, 'management');
    if (denied) {
      sendError(res, denied);
      return;
    }
    app(req, res);
  };
}

/** The metrics port: no token (as TorchServe), not counted in the API response metrics. */
export function metricsListener(deps: ListenerDeps, app: RequestListener): RequestListener {
  return (req, res) => {
    deps.accessLog?.track(res);
    app(req, res);
  };
}
