/**
 * Every route the gateway serves, in one place: which requests take the hot path on plain node:http,
 * which are WebSocket upgrades, which are probes that need no token, and which paths exist at all (an
 * unknown path is 404, a known one with the wrong method 405). The listeners (listeners.ts) and the
 * express apps read these tables; nothing else matches URLs.
 */

/** A model route's target: `{model}` or `{model}/{version}`. */
export interface ModelTarget {
  model: string;
  version: string | undefined;
}

export type HotRoute =
  /** `POST|PUT /predictions/{m}[/{v}][/extra/path]`, `/explanations/...` (TorchServe). */
  | { kind: 'predict' | 'explain'; segments: readonly string[] }
  /** `POST /v2/models/{m}[/versions/{v}]/infer` (Open Inference Protocol). */
  | ({ kind: 'v2-infer' } & ModelTarget)
  /** `POST|PUT /wfpredict/{workflow}` (TorchServe's workflow inference). */
  | { kind: 'wfpredict'; segments: readonly string[] };

const TORCHSERVE_ROUTES: Record<string, 'predict' | 'explain'> = { predictions: 'predict', explanations: 'explain' };

/** The hot route a request takes, or undefined when express serves it. `segments` are the decoded path. */
export function hotRoute(method: string | undefined, segments: readonly string[]): HotRoute | undefined {
  const first = segments[0];
  const kind = first === undefined ? undefined : TORCHSERVE_ROUTES[first];
  // OPTIONS /predictions/{m} is TorchServe's API description, served by express.
  if (kind) return method === 'OPTIONS' ? undefined : { kind, segments };
  if (first === 'wfpredict') return { kind: 'wfpredict', segments };
  if (method !== 'POST') return undefined;
  const infer = v2InferTarget(segments);
  return infer && { kind: 'v2-infer', ...infer };
}

/** `v2/models/{m}/infer` or `v2/models/{m}/versions/{v}/infer`. */
export function v2InferTarget(segments: readonly string[]): ModelTarget | undefined {
  if (segments[0] !== 'v2' || segments[1] !== 'models' || segments[segments.length - 1] !== 'infer') return undefined;
  if (segments.length === 4) return { model: segments[2]!, version: undefined };
  if (segments.length === 6 && segments[3] === 'versions') return { model: segments[2]!, version: segments[4]! };
  return undefined;
}

/** `GET /predictions/{m}[/{v}]/ws`, the WebSocket route on the inference port. */
export function webSocketTarget(segments: readonly string[]): ModelTarget | undefined {
  if (segments[0] !== 'predictions' || segments.at(-1) !== 'ws' || segments.length < 3 || segments.length > 4) return undefined;
  return { model: segments[1]!, version: segments.length === 4 ? segments[2] : undefined };
}

/** KServe v1 verbs, relative to /v1: `/models/{m}[/versions/{v}]:predict|explain`. */
export const V1_VERB_PATH = /^\/models\/([^/:]+)(?:\/versions\/([^/:]+))?:(predict|explain)$/;

/** Paths that exist for some method, per listener (and per router mount point); others answer 404. */
export const KNOWN_PATHS = {
  inference: [/^\/$/, /^\/ping$/, /^\/api-description$/, /^\/(predictions|explanations|wfpredict)\//],
  management: [/^\/$/, /^\/api-description$/, /^\/models(\/.*)?$/, /^\/workflows(\/[^/]+)?$/, /^\/token$/, /^\/status(\/events)?$/, /^\/dashboard(\/(app\.(js|css))?)?$/],
  metrics: [/^\/metrics$/],
  /** Relative to /v1. */
  v1: [V1_VERB_PATH, /^\/models(\/[^/]+(\/versions\/[^/]+)?)?$/],
  /** Relative to /v2. */
  v2: [/^\/?$/, /^\/health\/(live|ready)$/, /^\/models(\/stats)?$/, /^\/models\/[^/]+(\/versions\/[^/]+)?(\/(ready|config|stats|infer))?$/],
} as const satisfies Record<string, readonly RegExp[]>;

/**
 * First path segments that belong to the management API when it shares a listener with inference
 * (TorchServe serves both route sets on one address): `/models`, `/token`, the status page and its
 * summary. Everything else on a shared listener is inference.
 */
const MANAGEMENT_FIRST_SEGMENTS: ReadonlySet<string> = new Set(['models', 'token', 'status', 'dashboard', 'workflows']);

export function isManagementPath(path: string): boolean {
  return MANAGEMENT_FIRST_SEGMENTS.has(path.split('/', 2)[1] ?? '');
}

/** Whether a path is one of the listed ones (404 vs 405). */
export function isKnownPath(table: readonly RegExp[], path: string): boolean {
  return table.some((p) => p.test(path));
}

/** Paths whose errors are rendered `{"error": ...}` (KServe v1 and the Open Inference Protocol). */
export function usesOipErrors(url: string | undefined): boolean {
  return url !== undefined && (url.startsWith('/v1/') || url.startsWith('/v2/') || url === '/v1' || url === '/v2');
}
/**
 * Paths that must answer without a token, so Kubernetes liveness and readiness probes work when token
 * authorization is on: the Open Inference Protocol's health and model-readiness routes, and KServe
 * v1's model status and server liveness (`GET /`, which KServe's clients read as `{"status": "alive"}`).
 * They reveal only whether the server and its models are up.
 */
const PROBE_PATHS: readonly RegExp[] = [
  /^\/$/,
  /^\/v2\/health\/(live|ready)\/?$/,
  /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/ready\/?$/,
  /^\/v1\/models\/[^/:]+(\/versions\/[^/:]+)?\/?$/,
];

/** Whether a request is a health or readiness probe, which token authorization lets through. */
export function isProbeRequest(method: string | undefined, url: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = (url ?? '/').split('?', 1)[0]!;
  return PROBE_PATHS.some((p) => p.test(path));
}
