import { parseJsonOrUndefined } from './server.js';

/** Calls a management endpoint; returns status, parsed JSON (when any) and headers. */
export async function mgmt(base: string, method: string, path: string, options: { json?: unknown; headers?: Record<string, string> } = {}) {
  const init: RequestInit = { method, headers: { ...options.headers } };
  if (options.json !== undefined) {
    init.body = JSON.stringify(options.json);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  const json = parseJsonOrUndefined(text);
  // Management bodies are checked by shape with toMatchObject; a precise type per route buys nothing here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, headers: res.headers, text, json: json as any };
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
