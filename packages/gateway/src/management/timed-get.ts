import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { NormalizedUrl } from './model-url.js';

export interface TimedGetLimits {
  /** From the socket's creation until TCP (and, for https, TLS) is established; DNS included. */
  connectTimeoutMs: number;
  /** Longest silence once connected, waiting for the headers and then between body bytes. */
  idleTimeoutMs: number;
}

export interface TimedGet {
  /** The response (headers received); rejects with the request's error. */
  response: Promise<IncomingMessage>;
  /** Ends the exchange with `err`: the pending response rejects, or the body stream fails with it. */
  abort(err: Error): void;
  /** Closes the connection once the exchange is over (a no-op when it is closed already). */
  dispose(): void;
}

/**
 * A GET on a connection of its own with a connect and an idle timeout (global fetch has neither a
 * connect timeout nor a way to tell the two apart). The errors come from `timedOut`, so the caller
 * names the setting that ran out. Every error event of the request, socket and response is listened
 * to: a peer that resets the connection fails the download, never the gateway.
 */
export function timedGet(url: NormalizedUrl, limits: TimedGetLimits, timedOut: (which: 'connect' | 'idle') => Error): TimedGet {
  const target = new URL(url);
  const tls = target.protocol === 'https:';
  const req = (tls ? httpsRequest : httpRequest)(target, { method: 'GET', agent: false, headers: { accept: '*/*' } });
  let res: IncomingMessage | undefined;
  const abort = (err: Error): void => {
    if (res) res.destroy(err);
    else req.destroy(err);
  };
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('error', reject);
    req.once('response', (r: IncomingMessage) => {
      res = r;
      resolve(r);
    });
  });
  req.once('socket', (socket) => {
    const connectTimer = setTimeout(() => abort(timedOut('connect')), limits.connectTimeoutMs);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      socket.setTimeout(limits.idleTimeoutMs);
    });
    socket.once('close', () => clearTimeout(connectTimer));
    socket.on('timeout', () => abort(timedOut('idle')));
  });
  req.end();
  return { response, abort, dispose: () => req.destroy() };
}
