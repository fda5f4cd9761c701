/**
 * The management key, kept in sessionStorage: it lives as long as the tab, is never sent anywhere but
 * this server's own origin (as an Authorization header, never in a URL or a cookie, so no other site
 * can make the browser use it), and is gone when the tab closes.
 */
const STORAGE_KEY = 'model-server.management-key';

export function loadKey(): string | undefined {
  return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
}

export function saveKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

export function authHeaders(): Record<string, string> {
  const key = loadKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}
