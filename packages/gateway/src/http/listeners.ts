import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { ModelServerError } from '@model-server/protocol';
import { parseAddress } from '../config/server-config.js';
import { isHttpsAddress, type TlsMaterial } from '../config/tls.js';
import { isManagementPath } from '../routing/routes.js';

/** The APIs a listener can serve, by the config key of their address. */
export type ApiName = 'inference' | 'management' | 'metrics';
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export const ADDRESS_KEYS: Readonly<Record<ApiName, string>> = { inference: 'inference_address', management: 'management_address', metrics: 'metrics_address' };

/** One listener to open: an address and the APIs it serves (several when their addresses are the same). */
export interface ListenerPlan {
  address: string;
  apis: ApiName[];
}

/**
 * Groups the three addresses into listeners. Addresses naming the same host and port share one
 * listener, as TorchServe serves both route sets when inference and management have one address
 * (KServe's stock config puts both on 8085). Port 0 always gets a listener of its own: "any free port"
 * is a different port each time.
 */
export function planListeners(addresses: Readonly<Record<ApiName, string>>): ListenerPlan[] {
  const plans: ListenerPlan[] = [];
  for (const api of ['inference', 'management', 'metrics'] as const) {
    const address = addresses[api];
    const { host, port } = parseAddress(address);
    const same = port === 0 ? undefined : plans.find((p) => {
      const other = parseAddress(p.address);
      return other.host === host && other.port === port;
    });
    if (!same) {
      plans.push({ address, apis: [api] });
      continue;
    }
    if (isHttpsAddress(same.address) !== isHttpsAddress(address)) {
      throw new ModelServerError('CONFIG_INVALID', {
        file: ADDRESS_KEYS[api],
        reason: `${address} shares its port with ${ADDRESS_KEYS[same.apis[0]!]}=${same.address}, but not its scheme: one listener speaks either http or https`,
      });
    }
    same.apis.push(api);
  }
  return plans;
}

/** The API a request on a shared listener belongs to (routing/routes.ts decides which paths are whose). */
export function apiOfPath(url: string | undefined, apis: readonly ApiName[]): ApiName {
  const path = (url ?? '/').split('?', 1)[0]!;
  if (apis.includes('management') && isManagementPath(path)) return 'management';
  if (apis.includes('metrics') && path === '/metrics') return 'metrics';
  if (apis.includes('inference')) return 'inference';
  return apis.includes('management') ? 'management' : apis[0]!;
}

/** The handler of a listener: the API's own, or a dispatcher over the APIs it shares. */
export function listenerHandler(apis: readonly ApiName[], handlers: Readonly<Record<ApiName, RequestHandler>>): RequestHandler {
  if (apis.length === 1) return handlers[apis[0]!];
  return (req, res) => handlers[apiOfPath(req.url, apis)](req, res);
}

export interface OpenOptions {
  keepAliveTimeoutMs: number;
  connectionsCheckingIntervalMs: number;
  /** Key and certificate, for an https:// address. */
  tls: TlsMaterial | undefined;
  /** The class of the responses (ClosingResponses', so that a drain can close their connections). */
  responseClass: typeof ServerResponse;
}

/** An http or https server for the plan's address (not listening yet). */
export function createListener(plan: ListenerPlan, handler: RequestHandler, options: OpenOptions): Server {
  const common = { keepAliveTimeout: options.keepAliveTimeoutMs, connectionsCheckingInterval: options.connectionsCheckingIntervalMs, ServerResponse: options.responseClass };
  if (!isHttpsAddress(plan.address)) return createHttpServer(common, handler);
  if (!options.tls) throw new Error(`${plan.address} is https but no TLS material was loaded: this is a bug`);
  // An https.Server is an http.Server to everything the gateway does with it (timeouts, upgrades, close).
  return createHttpsServer({ ...common, key: options.tls.key, cert: options.tls.cert }, handler) as unknown as Server;
}

/**
 * Starts listening; resolves with the bound address (`https://127.0.0.1:8443`). A port already taken is
 * LISTEN_FAILED naming the config key(s) and the address, not node's bare EADDRINUSE.
 */
export function listen(server: Server, plan: ListenerPlan): Promise<string> {
  const { host, port } = parseAddress(plan.address);
  const keys = plan.apis.map((a) => ADDRESS_KEYS[a]).join(' and ');
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const reason =
        err.code === 'EADDRINUSE'
          ? `the port is in use by another process (EADDRINUSE): stop it, or set ${keys} to another port`
          : err.code === 'EACCES'
            ? `permission denied (EACCES): ports below 1024 need privileges`
            : err.code === 'EADDRNOTAVAIL'
              ? `this machine has no such address (EADDRNOTAVAIL)`
              : err.message;
      reject(new ModelServerError('LISTEN_FAILED', { address: plan.address, key: keys, reason }, { cause: err }));
    });
    server.listen(port, host, () => {
      const bound = server.address() as AddressInfo;
      const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      resolve(`${isHttpsAddress(plan.address) ? 'https' : 'http'}://${shown}:${bound.port}`);
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
