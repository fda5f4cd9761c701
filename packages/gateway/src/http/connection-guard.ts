import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ModelServerError, type ErrorCode } from '@model-server/protocol';
import type { Logger } from '../logging/logger.js';

/**
 * What node's parser errors mean to a client, answered with the catalog's JSON body instead of node's
 * empty default: a malformed request (400), headers too large (431), a request not received in time (408).
 */
const CLIENT_ERRORS: Record<string, { code: ErrorCode; params: Record<string, unknown> }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'REQUEST_READ_TIMEOUT', params: {} },
  HPE_HEADER_OVERFLOW: { code: 'HEADERS_TOO_LARGE', params: {} },
};

function clientErrorResponse(err: NodeJS.ErrnoException): string {
  const known = err.code ? CLIENT_ERRORS[err.code] : undefined;
  const error = known
    ? new ModelServerError(known.code, known.params)
    : new ModelServerError('BAD_REQUEST', { reason: `Malformed HTTP request (${err.code ?? err.message})` });
  const body = JSON.stringify(error.toJSON());
  return `HTTP/1.1 ${error.status} ${error.type}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

export interface ConnectionLimits {
  /** The whole request, headers and body, must arrive within this (node's requestTimeout); 0 = no limit. */
  requestTimeoutMs: number;
  /** The headers must arrive within this (node's headersTimeout); at most requestTimeoutMs. */
  headersTimeoutMs: number;
}

/**
 * Makes a listener safe against what clients do to connections:
 * - every accepted socket gets an error listener of its own for its whole life. Node's HTTP server
 *   removes its listener when a connection is upgraded (WebSocket) or handed over, and an 'error'
 *   without a listener (a client's TCP reset, say) would end the whole process;
 * - parser errors and slow requests are answered with a JSON error (400, 408, 431) when nothing has
 *   been written on the connection yet, then the connection is closed;
 * - slow headers and slow bodies are bounded in time alike.
 */
export function guardConnections(server: Server, logger: Logger, limits: ConnectionLimits): void {
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = limits.requestTimeoutMs === 0 ? limits.headersTimeoutMs : Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const onSocketError = (err: Error): void => {
    logger.debug({ err: err.message }, 'client connection error');
  };
  server.on('connection', (socket: Socket) => {
    socket.on('error', onSocketError);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const res = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    // A reset connection has nobody to answer.
    // As node's own handler does: the short answer fits the socket's buffer and leaves before destroy.
    if (err.code !== 'ECONNRESET' && socket.writable && !res?.headersSent) socket.write(clientErrorResponse(err));
    socket.destroy();
  });
}
