/** Distinct URLs remembered; a client cycling through more only costs the split it saves. */
const CACHE_LIMIT = 1024;
const cache = new Map<string, readonly string[] | undefined>();

function split(url: string): string[] | undefined {
  const path = url.split('?', 1)[0]!;
  if (!path.includes('%')) return path.split('/').filter((s) => s !== '');
  try {
    return path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/**
 * Splits a request URL's path into decoded segments; undefined when it cannot be decoded. Clients
 * repeat the same few URLs, so results are remembered (frozen: every caller shares them).
 */
export function pathSegments(url: string | undefined): readonly string[] | undefined {
  const key = url ?? '/';
  const hit = cache.get(key);
  if (hit !== undefined || cache.has(key)) return hit;
  const segments = split(key);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, segments && Object.freeze(segments));
  return segments;
}
