import type { ResponseSettings } from '@model-server/sdk';

const encoder = new TextEncoder();

export interface EncodedResult {
  status: number;
  contentType?: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * A handler's value for one request to response bytes: bytes as they are, strings as UTF-8, anything
 * else as JSON. A content type the handler set wins over the one implied by the value.
 */
export function encodeResult(value: unknown, settings: Readonly<ResponseSettings>): EncodedResult {
  let body: Uint8Array;
  let implied: string | undefined;
  if (value instanceof Uint8Array) {
    body = value;
  } else if (typeof value === 'string') {
    body = encoder.encode(value);
    implied = 'text/plain; charset=utf-8';
  } else {
    body = encoder.encode(JSON.stringify(value ?? null));
    implied = 'application/json';
  }
  const contentType = settings.contentType ?? implied;
  return {
    status: settings.status,
    headers: { ...settings.headers },
    body,
    ...(contentType !== undefined ? { contentType } : {}),
  };
}
