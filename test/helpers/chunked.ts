import { connect } from 'node:net';

export interface ChunkedResponse {
  status: number;
  headers: Record<string, string>;
  /** Each HTTP/1.1 chunk's payload, as framed on the wire (not as TCP happened to deliver it). */
  chunks: Buffer[];
  /** True when the terminating zero-length chunk arrived (a complete, successful stream). */
  terminated: boolean;
}

/**
 * Sends one request over a raw socket and parses the chunked transfer coding itself, so tests see the
 * chunk boundaries the server wrote. Resolves when the stream terminates or the server closes.
 */
export function requestChunked(url: string, body: string, headers: Record<string, string> = {}): Promise<ChunkedResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    let buf = Buffer.alloc(0);
    let head: { status: number; headers: Record<string, string> } | undefined;
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (terminated: boolean): void => {
      if (done) return;
      done = true;
      socket.destroy();
      if (!head) reject(new Error('connection closed before the response head'));
      else resolve({ ...head, chunks, terminated });
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!head) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.subarray(0, end).toString().split('\r\n');
        const headersOut: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const i = line.indexOf(':');
          headersOut[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
        }
        head = { status: Number(lines[0]!.split(' ')[1]), headers: headersOut };
        buf = buf.subarray(end + 4);
        if (headersOut['transfer-encoding'] !== 'chunked') {
          const len = Number(headersOut['content-length'] ?? 0);
          const wait = (): void => {
            if (buf.length >= len) {
              chunks.push(buf.subarray(0, len));
              finish(true);
            }
          };
          socket.on('data', wait);
          wait();
          return;
        }
      }
      if (head.headers['transfer-encoding'] !== 'chunked') return;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n');
        if (lineEnd < 0) return;
        const size = parseInt(buf.subarray(0, lineEnd).toString(), 16);
        if (buf.length < lineEnd + 2 + size + 2) return;
        if (size === 0) return finish(true);
        chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        buf = buf.subarray(lineEnd + 2 + size + 2);
      }
    });
    socket.on('close', () => finish(false));
    socket.on('error', (err) => (done ? undefined : reject(err)));
    const extra = Object.entries({ 'content-type': 'application/json', ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`POST ${u.pathname} HTTP/1.1\r\nhost: ${u.host}\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
}
