import { Agent, request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** How a request ended, from the client's side. */
export type Outcome =
  /** 200. */
  | 'ok'
  /** 503 SERVER_DRAINING with Retry-After: refused by a draining replica, not run; safe to send elsewhere. */
  | 'draining'
  /** The connection was refused: the request never left the client (nothing listens any more). */
  | 'refused'
  /** Any other status. Lost. */
  | 'failed'
  /** Sent, and no answer: a reset, a closed connection, a timeout. Lost (the client cannot tell if it ran). */
  | 'error';

export interface RequestResult {
  /** Start and end, ms since the epoch (comparable with nginx's `$msec`). */
  start: number;
  end: number;
  outcome: Outcome;
  status?: number;
  /** The error code of a failed exchange (ECONNRESET, ...) or the body's errorCode. */
  code?: string;
  retryAfter?: string;
  /** The response said `Connection: close`. */
  connectionClose: boolean;
  /** The port of the replica that answered (from the balancer's `X-Upstream`; the last one tried). */
  upstreamPort?: number;
  /** Sent on a kept-alive connection that an earlier request used. */
  reusedSocket: boolean;
}

export interface ConnectionStats {
  /** Connections established. */
  opened: number;
  /** Established connections that ended without an error: the server's FIN after a `Connection: close` response or on an idle connection, or the client's own close at the end. */
  closedCleanly: number;
  /** Errors on established connections (ECONNRESET, EPIPE): a reset, whether a request was on it or not. */
  errors: Record<string, number>;
}

export interface LoadOptions {
  url: string;
  path: string;
  body: Uint8Array;
  contentType: string;
  /** Closed-loop clients: each has one request in flight at a time, on kept-alive connections. */
  clients: number;
  /** false: a new connection per request (clients that do not pool), to see what connecting during a drain does. */
  keepAlive?: boolean;
  timeoutMs?: number;
}

export interface Load {
  /** Every request finished so far, in completion order. */
  readonly results: readonly RequestResult[];
  /** Requests sent and not answered yet. */
  inFlight(): number;
  connections(): ConnectionStats;
  /** Resolves once `condition` holds over the results (checked after each request). */
  until(condition: (results: readonly RequestResult[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  /** Stops the clients (each finishes its request in flight), closes the connections. */
  stop(): Promise<{ results: RequestResult[]; connections: ConnectionStats }>;
}

/** A pause after a refused connection, so a client facing a closed port does not spin. */
const REFUSED_PAUSE_MS = 20;
const DEFAULT_TIMEOUT_MS = 30_000;

export const epochNow = (): number => performance.timeOrigin + performance.now();

function upstreamPort(header: string | string[] | undefined): number | undefined {
  const last = String(header ?? '').split(/,\s*/).pop();
  const m = last ? /:(\d+)$/.exec(last) : null;
  return m ? Number(m[1]) : undefined;
}

function classify(res: IncomingMessage, body: Buffer): Pick<RequestResult, 'outcome' | 'status' | 'code' | 'retryAfter' | 'connectionClose' | 'upstreamPort'> {
  const status = res.statusCode ?? 0;
  const retryAfter = res.headers['retry-after'];
  const base = { status, retryAfter, connectionClose: res.headers.connection === 'close', upstreamPort: upstreamPort(res.headers['x-upstream']) };
  if (status === 200) return { ...base, outcome: 'ok' };
  let code: string | undefined;
  try {
    code = (JSON.parse(body.toString()) as { errorCode?: string }).errorCode;
  } catch {
    // Not one of ours (nginx's own error page, say).
  }
  return { ...base, code, outcome: status === 503 && code === 'SERVER_DRAINING' && retryAfter !== undefined ? 'draining' : 'failed' };
}

/**
 * One POST of `options.body` over `agent`, classified; `onSocket` sees the connection it went on.
 * Never rejects: a failed exchange is an outcome.
 */
export function sendOne(agent: Agent, options: Pick<LoadOptions, 'url' | 'path' | 'body' | 'contentType' | 'timeoutMs' | 'keepAlive'>, onSocket: (socket: Socket) => void = () => undefined): Promise<RequestResult> {
  return new Promise((resolve) => {
    const start = epochNow();
    let reused = false;
    let connected = false;
    const req = request(options.url + options.path, {
      method: 'POST',
      agent,
      // Without keep-alive, node's agent would still hand a freed socket to a waiting request.
      headers: { 'content-type': options.contentType, 'content-length': options.body.byteLength, ...(options.keepAlive === false ? { connection: 'close' } : {}) },
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    req.on('socket', (socket: Socket) => {
      onSocket(socket);
      reused = req.reusedSocket;
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ start, end: epochNow(), reusedSocket: reused, ...classify(res, Buffer.concat(chunks)) }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ start, end: epochNow(), outcome: 'error', code: err.code ?? err.message, connectionClose: false, reusedSocket: reused }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const refused = !connected && err.code === 'ECONNREFUSED';
      resolve({ start, end: epochNow(), outcome: refused ? 'refused' : 'error', code: err.code ?? err.message, connectionClose: false, reusedSocket: reused });
    });
    req.end(options.body);
  });
}

/**
 * Steady load from `clients` closed-loop clients over node's keep-alive agent, as a service calling
 * a model server would: each sends its next request as soon as the previous one is answered, on the
 * connection it already has. Every request's outcome is kept, and every connection's end.
 */
export function startLoad(options: LoadOptions): Load {
  const agent = new Agent({ keepAlive: options.keepAlive ?? true, maxSockets: options.clients });
  const results: RequestResult[] = [];
  const stats: ConnectionStats = { opened: 0, closedCleanly: 0, errors: {} };
  const seen = new WeakSet<Socket>();
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  let inFlight = 0;
  let running = true;

  const watch = (socket: Socket): void => {
    if (seen.has(socket)) return;
    seen.add(socket);
    let established = false;
    let failed = false;
    const opened = (): void => {
      established = true;
      stats.opened++;
    };
    if (socket.connecting) socket.once('connect', opened);
    else opened();
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A refused connect is counted as the request's outcome; it never was a connection.
      if (!established) return;
      failed = true;
      const code = err.code ?? err.message;
      stats.errors[code] = (stats.errors[code] ?? 0) + 1;
    });
    socket.once('close', () => {
      if (established && !failed) stats.closedCleanly++;
    });
  };

  const record = (r: RequestResult): void => {
    results.push(r);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.check()) waiters.splice(i, 1)[0]!.resolve();
    }
  };

  const send = (): Promise<RequestResult> => sendOne(agent, options, watch);

  const loops = Array.from({ length: options.clients }, async () => {
    while (running) {
      inFlight++;
      const r = await send();
      inFlight--;
      record(r);
      if (r.outcome === 'refused') await new Promise((resolve) => setTimeout(resolve, REFUSED_PAUSE_MS));
    }
  });

  return {
    results,
    inFlight: () => inFlight,
    connections: () => ({ ...stats, errors: { ...stats.errors } }),
    until(condition, timeoutMs, what) {
      if (condition(results)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        const waiter = {
          check: () => condition(results),
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        waiters.push(waiter);
      });
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return { results: [...results], connections: { ...stats, errors: { ...stats.errors } } };
    },
  };
}

/** Counts of outcomes, and of statuses / error codes among the lost ones. */
export function tally(results: readonly RequestResult[]): Record<Outcome, number> & { lostDetail: Record<string, number> } {
  const out = { ok: 0, draining: 0, refused: 0, failed: 0, error: 0, lostDetail: {} as Record<string, number> };
  for (const r of results) {
    out[r.outcome]++;
    if (r.outcome === 'failed' || r.outcome === 'error') {
      const key = r.outcome === 'failed' ? `${r.status}${r.code ? ` ${r.code}` : ''}` : (r.code ?? 'error');
      out.lostDetail[key] = (out.lostDetail[key] ?? 0) + 1;
    }
  }
  return out;
}
