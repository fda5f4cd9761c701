import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { REPO_ROOT } from '../paths.js';

/** One kind of request of the soak's mix. */
export interface SoakRequest {
  kind: string;
  path: string;
  contentType: string;
  body: Buffer;
}

/**
 * The mix: the no-op model (serving overhead: HTTP, queue, batching, IPC), mnist with PNG digits (image
 * decoding and an ONNX run), and mnist through the Open Inference Protocol (JSON tensors). Clients are
 * dealt the kinds in turn, so half of them send no-ops, a quarter PNGs, a quarter tensors.
 */
export async function soakRequests(): Promise<SoakRequest[]> {
  const png = await readFile(join(REPO_ROOT, 'examples', 'mnist', 'samples', 'digit-7.png'));
  const tensor = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: new Array<number>(784).fill(0) }] }));
  const noop = { kind: 'noop', path: '/predictions/noop', contentType: 'application/json', body: Buffer.from('{}') };
  return [
    noop,
    { kind: 'mnist png', path: '/predictions/mnist', contentType: 'image/png', body: png },
    noop,
    { kind: 'mnist v2', path: '/v2/models/mnist/infer', contentType: 'application/json', body: tensor },
  ];
}

/** What the load saw in one window of time. */
export interface WindowStats {
  /** Seconds since the load started, at the window's end. */
  t: number;
  requests: number;
  /** Latencies of the window's successful requests, in milliseconds. */
  latencies: number[];
  /** Failures by kind: `status 500`, `ECONNRESET`, `hung`, ... */
  errors: Record<string, number>;
}

/** A request with no answer by then counts as hung (and is abandoned). */
const HUNG_MS = 30_000;

/**
 * Closed-loop clients with one keep-alive connection each, sending the mix until stopped. Outcomes are
 * added to the current window, which `takeWindow` hands out and starts afresh.
 */
export class SoakLoad {
  private window: WindowStats = { t: 0, requests: 0, latencies: [], errors: {} };
  private running = true;
  private readonly started = performance.now();
  private readonly clients: Promise<void>[] = [];
  private readonly agents: Agent[] = [];

  constructor(url: string, mix: readonly SoakRequest[], concurrency: number) {
    const base = new URL(url);
    for (let c = 0; c < concurrency; c++) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      this.agents.push(agent);
      this.clients.push(this.client(agent, base, mix[c % mix.length]!));
    }
  }

  private async client(agent: Agent, base: URL, r: SoakRequest): Promise<void> {
    while (this.running) {
      const t0 = performance.now();
      const error = await send(agent, base, r);
      const w = this.window;
      w.requests++;
      if (error === undefined) w.latencies.push(performance.now() - t0);
      else w.errors[error] = (w.errors[error] ?? 0) + 1;
      // A refused or reset connection would otherwise spin and eat the CPU.
      if (error !== undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** The window so far; a new one starts. */
  takeWindow(): WindowStats {
    const w = { ...this.window, t: (performance.now() - this.started) / 1000 };
    this.window = { t: 0, requests: 0, latencies: [], errors: {} };
    return w;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.clients);
    for (const a of this.agents) a.destroy();
  }
}

/** One request; resolves with undefined on a 200, else with what went wrong. */
function send(agent: Agent, base: URL, r: SoakRequest): Promise<string | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (error: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(error);
    };
    const req = request(
      { agent, host: base.hostname, port: base.port, method: 'POST', path: r.path, headers: { 'content-type': r.contentType, 'content-length': r.body.byteLength } },
      (res) => {
        res.resume();
        res.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
        res.on('end', () => finish(res.statusCode === 200 ? undefined : `status ${res.statusCode}`));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    const timer = setTimeout(() => {
      finish('hung');
      req.destroy();
    }, HUNG_MS);
    req.end(r.body);
  });
}
