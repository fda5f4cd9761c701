import { fileURLToPath } from 'node:url';
import { ModelServerError } from '@model-server/protocol';

declare const normalized: unique symbol;

/**
 * A URL that went through {@link locateModel} or {@link redirectTarget}: the exact string that is
 * fetched or opened. `AllowedUrls.check` takes only this type, so a raw string from a request or a
 * `Location` header cannot be checked by mistake (the CVE-2023-43654 class: check one form, fetch another).
 */
export type NormalizedUrl = string & { readonly [normalized]: true };

/** Where a `url` parameter of `POST /models` points. */
export type ModelLocation =
  /** An http(s) URL to download; `url` has no fragment and no credentials. */
  | { kind: 'http'; url: NormalizedUrl }
  /** A file:// URL; `url` is `file://` + `path`, the decoded path that is opened. */
  | { kind: 'file'; url: NormalizedUrl; path: string }
  /** A name in the model store, or an absolute path (no scheme). */
  | { kind: 'path'; path: string };

/** Deeper nesting of percent-encoding than this is refused rather than decoded further. */
const MAX_DECODE_LEVELS = 4;
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
// C0 controls and DEL: the URL parser drops tabs and newlines anywhere and trims the rest at the ends,
// so `.\t.` would be checked as three characters and fetched as `..`.
const CONTROL = /[\u0000-\u001f\u007f]/;

function unsafe(url: string, reason: string): ModelServerError {
  return new ModelServerError('URL_UNSAFE', { url, reason });
}

function decodeOnce(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // Not valid UTF-8 once decoded: decode byte by byte, which still reveals `.`, `/` and `\`.
    return s.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

/**
 * Refuses a path that any server along the way could read as leaving its folder: dot segments
 * (`..`, `.`, in any mix of literal and percent-encoded dots, with `;params` or surrounding spaces),
 * backslashes, encoded separators (`%2f`, `%5c`, also double-encoded or as Unicode look-alikes that
 * NFKC folds to `/`), and control characters; each decoding level is checked, up to a bound.
 */
function checkPath(url: string, path: string): void {
  const slashes = path.split('/').length;
  let level = path;
  for (let depth = 0; ; depth++) {
    const folded = level.normalize('NFKC');
    if (CONTROL.test(folded)) throw unsafe(url, 'it contains a control character');
    if (folded.includes('\\')) throw unsafe(url, depth === 0 ? 'it contains a backslash' : 'it contains an encoded separator (%5c)');
    const segments = folded.split('/');
    if (segments.length !== slashes) throw unsafe(url, 'it contains an encoded separator (%2f)');
    for (const segment of segments) {
      const bare = segment.split(';')[0]!.trim();
      if (bare === '.' || bare === '..') throw unsafe(url, `it contains a dot segment ("${segment}")`);
    }
    const next = decodeOnce(level);
    if (next === level) return;
    if (depth + 1 >= MAX_DECODE_LEVELS) throw unsafe(url, `it is percent-encoded more than ${MAX_DECODE_LEVELS} times`);
    level = next;
  }
}

/**
 * The path of a URL or URL reference as written (before the URL parser resolves anything): what
 * follows the scheme and authority, up to the query or fragment.
 */
function rawPath(raw: string): string {
  let rest = raw.replace(SCHEME, '');
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/\\?#]/);
    rest = end < 0 ? '' : rest.slice(2 + end);
  }
  const cut = rest.search(/[?#]/);
  return cut < 0 ? rest : rest.slice(0, cut);
}

/** Parses with the WHATWG URL parser after the raw checks, then checks what the parser made of it. */
function normalizeUrl(raw: string, base?: string): URL {
  if (CONTROL.test(raw)) throw unsafe(raw, 'it contains a control character');
  if (raw.includes('\\')) throw unsafe(raw, 'it contains a backslash');
  if (raw !== raw.trim()) throw unsafe(raw, 'it starts or ends with white space');
  checkPath(raw, rawPath(raw));
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new ModelServerError('BAD_REQUEST', { reason: `Invalid URL: ${raw}` });
  }
  if (url.username !== '' || url.password !== '') throw unsafe(raw, 'it contains credentials');
  url.hash = '';
  checkPath(raw, url.pathname);
  return url;
}

/**
 * The one place a model URL is read: normalizes it with the WHATWG URL parser and refuses what could
 * be checked in one form and fetched in another (see checkPath), with URL_UNSAFE. Store paths get
 * the same path checks, so `..%2f` cannot name a file outside the store either.
 */
export function locateModel(raw: string): ModelLocation {
  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') return { kind: 'http', url: normalizeUrl(raw).href as NormalizedUrl };
  if (scheme === 'file') {
    const url = normalizeUrl(raw);
    // The parser turns file://localhost/ into file:///; any other host would be a network share.
    if (url.host !== '') throw unsafe(raw, 'a file URL must not name a host (write file:///absolute/path)');
    const path = fileURLToPath(url);
    return { kind: 'file', url: `file://${path}` as NormalizedUrl, path };
  }
  if (scheme !== undefined && raw.slice(scheme.length + 1).startsWith('//')) {
    throw new ModelServerError('BAD_REQUEST', { reason: `Unsupported URL scheme ${scheme}: (use http, https or file)` });
  }
  if (CONTROL.test(raw)) throw unsafe(raw, 'it contains a control character');
  if (raw.includes('\\')) throw unsafe(raw, 'it contains a backslash');
  checkPath(raw, raw);
  return { kind: 'path', path: raw };
}

/** The next hop of a redirect, normalized and checked exactly as the first URL was (http and https only). */
export function redirectTarget(location: string, from: NormalizedUrl): NormalizedUrl {
  const url = normalizeUrl(location, from);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw unsafe(location, `a redirect may only lead to http or https (got ${url.protocol})`);
  return url.href as NormalizedUrl;
}
