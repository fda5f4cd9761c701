import type { IncomingMessage } from 'node:http';
import express, { type Request, type Response, type Router } from 'express';
import { ModelServerError } from '@model-server/protocol';
import type { GuardedApi } from '../auth/token-guard.js';
import { Params } from '../management/params.js';
import type { StatusSampler } from '../status/status-sampler.js';
import type { SeriesMode } from '../status/summary.js';
import { DASHBOARD_ASSETS, DASHBOARD_PATH } from './asset-paths.js';
import { DashboardAssets } from './assets.js';
import { openStatusStream } from './event-stream.js';

/** Open event streams at most: each costs a socket and a write per second. */
const MAX_STREAMS = 32;

/** What the status routes need of the gateway. */
export interface StatusRoutesContext {
  readonly status: StatusSampler;
  /** The management token check, run again on open streams. */
  authorize(req: IncomingMessage, api: GuardedApi): ModelServerError | undefined;
}

/**
 * The page may only run as itself: its own scripts and styles, requests to its own origin, never in a
 * frame (its buttons scale and unregister models, so it must not be clickjacked).
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

function seriesMode(req: Request): SeriesMode {
  const value = Params.fromRequest(req).string('series');
  if (value === undefined || value === '1' || value === 'true') return 'full';
  if (value === '0' || value === 'false') return 'none';
  throw new ModelServerError('BAD_REQUEST', { reason: `Parameter series must be true or false (got "${value}")` });
}

/**
 * Management-port routes of the status page: `GET /status` (the summary as JSON; `?series=false`
 * leaves out the history), `GET /status/events` (the same, live, as Server-Sent Events), and the page
 * itself under `/dashboard/`. `/status` needs the management key like the rest of the API; the page's
 * static files do not (see docs/dashboard.md).
 */
export function statusRoutes(ctx: StatusRoutesContext): Router {
  // strict: `/dashboard` and `/dashboard/` differ, so the page's relative URLs always resolve under it.
  const router = express.Router({ strict: true });
  const assets = new DashboardAssets();

  router.get('/status', async (req: Request, res: Response) => {
    const summary = await ctx.status.current(seriesMode(req));
    res.set('cache-control', 'no-store').json(summary);
  });

  router.get('/status/events', async (req: Request, res: Response) => {
    if (ctx.status.watcherCount >= MAX_STREAMS) throw new ModelServerError('STATUS_STREAMS_LIMIT', { limit: MAX_STREAMS });
    await openStatusStream(ctx.status, req, res, () => ctx.authorize(req, 'management') === undefined);
  });

  router.get(DASHBOARD_PATH, (_req: Request, res: Response) => {
    // Relative, so the page also works behind a proxy that serves it under a prefix.
    res.redirect(301, 'dashboard/');
  });

  router.get(Object.keys(DASHBOARD_ASSETS), async (req: Request, res: Response) => {
    const asset = await assets.get(req.path)!;
    res.set({ 'content-type': asset.type, etag: asset.etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    if (asset.type.startsWith('text/html')) res.set(PAGE_HEADERS);
    if (req.headers['if-none-match'] === asset.etag) {
      res.status(304).end();
      return;
    }
    res.send(asset.body);
  });

  return router;
}
