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
