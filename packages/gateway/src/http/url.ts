/** Splits a request URL's path into decoded segments; undefined when it cannot be decoded. */
export function pathSegments(url: string | undefined): string[] | undefined {
  const path = (url ?? '/').split('?', 1)[0]!;
  if (!path.includes('%')) return path.split('/').filter((s) => s !== '');
  try {
    return path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return undefined;
  }
}
