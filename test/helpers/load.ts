import { Agent, request } from 'node:http';

/** What became of one request. */
export interface Outcome {
  /** The HTTP status, when a response came. */
  status?: number;
  /** The catalog code of an error body (`errorCode`), when there was one. */
  errorCode?: string;
  /** The response's Connection and Retry-After headers. */
  connection?: string;
  retryAfter?: string;
  /** The socket error instead of a response (ECONNRESET, ECONNREFUSED, ...). */
  error?: string;
  /** No answer within the request's time limit. */
  hung?: boolean;
  /** Latency, and when the request was sent (performance.now()). */
  ms: number;
  at: number;
  /** The connection was new (not reused from the keep-alive pool). */
  fresh: boolean;
  /** The client (0 .. concurrency - 1) and path of the request. */
  client: number;
  path: string;
}

export interface Request {
  method?: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadOptions {
  url: string;
  /** The next request of a client (called once per request). */
  next: (client: number) => Request;
  concurrency: number;
  /** A request with no answer by then counts as hung (and is abandoned). */
  timeoutMs: number;
  /** A client whose connection is refused stops, as it would move on to another replica. */
  stopWhenRefused?: boolean;
  /** Pause of each client between an answer and its next request (load below saturation); none by default. */
  thinkMs?: number;
}

/** One request over the client's keep-alive agent. */
function send(agent: Agent, base: URL, r: Request, timeoutMs: number, client: number): Promise<Outcome> {
  const at = performance.now();
  return new Promise((resolve) => {
    let done = false;
    let fresh = false;
    const finish = (o: Omit<Outcome, 'ms' | 'at' | 'fresh' | 'client' | 'path'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...o, ms: performance.now() - at, at, fresh, client, path: r.path });
    };
    const body = r.body ?? '';
    const req = request(
      { agent, host: base.hostname, port: base.port, method: r.method ?? 'POST', path: r.path, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...r.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err: NodeJS.ErrnoException) => finish({ status: res.statusCode, error: err.code ?? err.message }));
        res.on('end', () => {
          let errorCode: string | undefined;
          if ((res.statusCode ?? 0) >= 400) {
            try {
              errorCode = (JSON.parse(Buffer.concat(chunks).toString()) as { errorCode?: string }).errorCode;
            } catch {
              errorCode = 'NOT_JSON';
            }
          }
          const o: Omit<Outcome, 'ms' | 'at' | 'fresh' | 'client' | 'path'> = { status: res.statusCode! };
          if (errorCode !== undefined) o.errorCode = errorCode;
          if (res.headers.connection !== undefined) o.connection = res.headers.connection;
          if (res.headers['retry-after'] !== undefined) o.retryAfter = res.headers['retry-after'];
          finish(o);
        });
      },
    );
    req.on('socket', (s) => {
      // A socket from the pool is already connected; a new one connects after this event.
      fresh = s.connecting;
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message }));
    const timer = setTimeout(() => {
      finish({ hung: true });
      req.destroy();
    }, timeoutMs);
    req.end(body);
  });
}

/**
 * Closed-loop load (perf_analyzer's concurrency mode): `concurrency` clients, each with a keep-alive
 * connection of its own, each sending its next request as soon as the last one is answered, until
 * stopped. Every outcome is kept, so a test can check that each request was answered.
 */
export class ClosedLoop {
  readonly outcomes: Outcome[] = [];
  private running = true;
  private readonly clients: Promise<void>[] = [];
  private readonly agents: Agent[] = [];
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  constructor(private readonly options: LoadOptions) {
    const base = new URL(options.url);
    for (let c = 0; c < options.concurrency; c++) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      this.agents.push(agent);
      this.clients.push(this.client(c, agent, base));
    }
  }

  private async client(c: number, agent: Agent, base: URL): Promise<void> {
    while (this.running) {
      const o = await send(agent, base, this.options.next(c), this.options.timeoutMs, c);
      this.outcomes.push(o);
      for (const w of this.waiters.filter((x) => x.count <= this.outcomes.length)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
      if (o.error === 'ECONNREFUSED' && this.options.stopWhenRefused) return;
      if (this.options.thinkMs) await new Promise((r) => setTimeout(r, this.options.thinkMs));
    }
  }

  /** Resolves once `n` more requests have been answered. */
  answered(n: number): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ count: this.outcomes.length + n, resolve }));
  }

  /** Resolves once every client has stopped by itself (stopWhenRefused). */
  async finished(): Promise<Outcome[]> {
    await Promise.all(this.clients);
    return this.outcomes;
  }

  /** Stops the clients after their current request; resolves with every outcome. */
  async stop(): Promise<Outcome[]> {
    this.running = false;
    await Promise.all(this.clients);
    for (const a of this.agents) a.destroy();
    return this.outcomes;
  }
}

/** Outcomes counted by `key` (status and catalog code, or the socket error). */
export function summarize(outcomes: readonly Outcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.hung ? 'hung' : o.error !== undefined ? `error ${o.error}` : `${o.status}${o.errorCode ? ` ${o.errorCode}` : ''}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** The p-th percentile (0..100) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
