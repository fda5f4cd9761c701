import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Linux caps a Unix socket path at 107 bytes (macOS 102); a long TMPDIR must not break workers. */
const MAX_SOCKET_PATH_BYTES = 100;
let counter = 0;

export function workerSocketPath(): string {
  const name = `ms-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}.sock`;
  for (const dir of [process.env['MODEL_SERVER_SOCKET_DIR'], tmpdir(), '/tmp']) {
    if (!dir) continue;
    const path = join(dir, name);
    if (Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES) return path;
  }
  throw new Error(`no folder gives a Unix socket path under ${MAX_SOCKET_PATH_BYTES} bytes`);
}
