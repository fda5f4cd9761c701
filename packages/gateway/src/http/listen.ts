import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { parseAddress } from '../config/server-config.js';
import type { Logger } from '../logging/logger.js';
import { guardConnections } from './connection-guard.js';

/** How often node checks connections against the header and request read timeouts. */
const CONNECTION_CHECK_MS = 1_000;
/** Longer than the 60 s idle timeout of the usual load balancers, so they close first (no race). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface Listening {
  server: Server;
  /** The address as bound (port 0 resolved), `http://host:port`. */
  url: string;
}

/**
 * Starts one guarded HTTP listener (see connection-guard.ts). `configKey` names the config key the
 * address came from, so a clash says which setting to change.
 */
export function listenOn(
  address: string,
  configKey: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: { logger: Logger; requestReadTimeoutMs: number },
): Promise<Listening> {
  const { host, port } = parseAddress(address);
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, connectionsCheckingInterval: CONNECTION_CHECK_MS }, handler);
  guardConnections(server, options.logger, { requestTimeoutMs: options.requestReadTimeoutMs, headersTimeoutMs: options.requestReadTimeoutMs });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message;
      reject(new Error(`cannot listen on ${address} (${configKey}): ${why}`, { cause: err }));
    });
    server.listen(port, host, () => {
      const bound = server.address() as AddressInfo;
      const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      resolve({ server, url: `http://${shown}:${bound.port}` });
    });
  });
}

/**
 * Stops accepting connections and leaves the open ones alone: http.Server#close would also close
 * idle keep-alive connections, racing a client that is sending its next request on one (a reset,
 * where the drain answers 503 SERVER_DRAINING and closes the connection instead). Resolves at once;
 * the connections end with their responses, or at the final stop.
 */
export function stopAccepting(server: Server): void {
  if (server.listening) NetServer.prototype.close.call(server);
}
