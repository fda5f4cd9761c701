import type { IncomingMessage } from 'node:http';
import { ModelServerError } from '@model-server/protocol';
import { DASHBOARD_OPEN_PATHS } from '../dashboard/asset-paths.js';
import { isProbeRequest } from '../routing/routes.js';
import type { TokenStore } from './token-store.js';

/** The API a listener serves; the metrics listener is never guarded. */
export type GuardedApi = 'inference' | 'management';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Paths that need no token. Exact matches only: a prefix rule such as `/v2/health/` would also open
 * `/v2/health/../models/m/infer` to a router that resolves dot segments.
 */
const OPEN_PATHS: Record<GuardedApi, ReadonlySet<string>> = {
  inference: new Set(['/ping', '/v2/health/live', '/v2/health/ready', '/api-description']),
  management: new Set(['/api-description', ...DASHBOARD_OPEN_PATHS]),
};

/** The management path that regenerates keys; it takes TorchServe's `API` key instead of the management key. */
export const TOKEN_PATH = '/token';

/** The token that an `Authorization: Bearer <key>` value carries, if any (HTTP header or gRPC metadata). */
export function tokenFromAuthorization(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return BEARER.exec(value)?.[1];
}

/** The token that an `Authorization: Bearer <key>` header carries, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  return tokenFromAuthorization(req.headers.authorization);
}

/**
 * Decides whether a request may proceed. It runs before any routing, on the hot path too, so it only
 * splits the URL and hashes the presented token. A missing or wrong token is 401 with
 * `WWW-Authenticate` (TorchServe answers 400); health, Kubernetes readiness probes of the OIP and KServe
 * v1 routes (`isProbeRequest`), `OPTIONS /` and the API description are open.
 */
export class TokenGuard {
  constructor(private readonly store: TokenStore | undefined) {}

  get enabled(): boolean {
    return this.store !== undefined;
  }

  /** undefined when the request may proceed, otherwise the error to answer with. */
  check(req: IncomingMessage, api: GuardedApi): ModelServerError | undefined {
    if (!this.store) return undefined;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/' && req.method === 'OPTIONS') return undefined;
    if (OPEN_PATHS[api].has(path)) return undefined;
    if (api === 'inference' && isProbeRequest(req.method, url)) return undefined;
    const kind = api === 'management' && path === TOKEN_PATH ? 'API' : api;
    return this.store.verify(kind, bearerToken(req)) ? undefined : new ModelServerError('UNAUTHORIZED');
  }
}
