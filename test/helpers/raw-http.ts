import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses the first response head and body (Content-Length framed) out of raw bytes; undefined if incomplete. */
export function parseResponse(buf: Buffer): RawResponse | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buf.byteLength < end + 4 + length) return undefined;
  return { status: Number(lines[0]!.split(' ')[1]), headers, body: buf.subarray(end + 4, end + 4 + length).toString() };
}

/** A raw TCP connection to an `http://host:port` address, with the bytes it received so far. */
export function rawConnect(url: string): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({ socket, received: () => buf, closed }));
    socket.once('error', reject);
  });
}

/**
 * Writes `request` (bytes, as is) and resolves with the first complete response, or with undefined if
 * the server closes the connection without one.
 */
export async function rawRequest(url: string, request: Buffer | string, options: { end?: boolean } = {}): Promise<RawResponse | undefined> {
  const { socket, received, closed } = await rawConnect(url);
  return new Promise((resolve) => {
    const check = (): void => {
      const r = parseResponse(received());
      if (r) {
        socket.destroy();
        resolve(r);
      }
    };
    socket.on('data', check);
    void closed.then(() => resolve(parseResponse(received())));
    socket.write(request);
    if (options.end) socket.end();
  });
}

/** A multipart/form-data body from parts, with the boundary used. */
export function multipart(parts: { name?: string; filename?: string; type?: string; data: Buffer | string }[], boundary = 'XbOuNdArYx'): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = ['form-data', p.name !== undefined ? `name="${p.name}"` : undefined, p.filename !== undefined ? `filename="${p.filename}"` : undefined]
      .filter(Boolean)
      .join('; ');
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** An HTTP/1.1 request as bytes, with a Content-Length for the given body unless headers say otherwise. */
export function httpRequest(method: string, path: string, headers: Record<string, string | number>, body: Buffer | string = ''): Buffer {
  const b = Buffer.from(body);
  const all: Record<string, string | number> = { host: 'localhost', connection: 'close', ...headers };
  if (!('content-length' in all) && !('transfer-encoding' in all)) all['content-length'] = b.byteLength;
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), b]);
}

/** A body in the chunked transfer coding, terminated properly. */
export function chunkedBody(body: Buffer): Buffer {
  if (body.byteLength === 0) return Buffer.from('0\r\n\r\n');
  return Buffer.concat([Buffer.from(`${body.byteLength.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
}
