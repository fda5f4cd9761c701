import fc from 'fast-check';
import { expect } from 'vitest';
import { checkProperty } from './fuzz.js';
import { samples } from './prom-text.js';

/**
 * The invariants every answer of the fuzz suites must hold, and the server-wide ones checked around
 * them: no worker replaced (same pids), no worker restart counted.
 */

export interface Answer {
  status: number;
  /** The content-type header, when there was one. */
  contentType: string | undefined;
  body: string;
}

/** A success, or a 4xx whose body is a JSON object: never a 5xx, never an error page of another kind. */
export function expectClientAnswer(answer: Answer | undefined, what: string): void {
  expect(answer, `${what}: no answer`).toBeDefined();
  const { status, contentType, body } = answer!;
  expect(status, `${what}: answered ${status} ${body.slice(0, 300)}`).toBeLessThan(500);
  expect(status, `${what}: not an HTTP status`).toBeGreaterThanOrEqual(200);
  if (status < 400) return;
  expect(contentType ?? '', `${what}: a ${status} that is not JSON`).toMatch(/json/);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`${what}: a ${status} whose body is not JSON: ${body.slice(0, 300)}`);
  }
  expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), `${what}: a ${status} whose body is not a JSON object`).toBe(true);
}

/** An answer from fetch, read in full. */
export async function fetchAnswer(url: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: await res.text() };
}

/** The worker pids of a model as describe (`GET /models/{m}`) lists them, sorted. */
export async function workerPids(management: string, model: string): Promise<number[]> {
  const res = await fetch(`${management}/models/${model}`);
  expect(res.status).toBe(200);
  const [described] = (await res.json()) as { workers: { pid: number; status: string }[] }[];
  return described!.workers.map((w) => w.pid).sort((a, b) => a - b);
}

/** ts_worker_restarts_total summed over every model. */
export async function workerRestarts(metrics: string): Promise<number> {
  const text = await (await fetch(`${metrics}/metrics`)).text();
  return samples(text, 'ts_worker_restarts_total').reduce((sum, s) => sum + s.value, 0);
}

export interface Baseline {
  pids: Record<string, number[]>;
  restarts: number;
}

/** Worker pids of `models` and the restart count, to compare after a run. */
export async function baseline(server: { management: string; metrics: string }, models: readonly string[]): Promise<Baseline> {
  const pids: Record<string, number[]> = {};
  for (const m of models) pids[m] = await workerPids(server.management, m);
  return { pids, restarts: await workerRestarts(server.metrics) };
}

/** Same workers, no restart, and the server process still running. */
export async function expectUnharmed(server: { management: string; metrics: string; alive: boolean }, before: Baseline): Promise<void> {
  expect(server.alive, 'the server process exited').toBe(true);
  const after = await baseline(server, Object.keys(before.pids));
  expect(after.pids, 'a worker was replaced').toEqual(before.pids);
  expect(after.restarts, 'ts_worker_restarts_total grew').toBe(before.restarts);
}

/** The promise's value, or a failure naming `what` when it takes longer than `ms` (a hung request). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Counts the answers a property got, by status, so that a test can show its inputs reached past the
 * first check (some successes, some refusals), and FUZZ_STATS=1 prints them.
 */
export class Tally {
  readonly counts = new Map<number | string, number>();

  constructor(private readonly name: string) {}

  add(key: number | string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  count(test: (key: number | string) => boolean): number {
    let n = 0;
    for (const [k, c] of this.counts) if (test(k)) n += c;
    return n;
  }

  report(): void {
    if (process.env['FUZZ_STATS']) {
      const line = [...this.counts].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([k, c]) => `${k}: ${c}`).join(', ');
      process.stderr.write(`${this.name}: ${line}\n`);
    }
  }
}

export interface AskedCase {
  /** The answer, or undefined when the client left before one could come (and none was due). */
  answer: Answer | undefined;
  /** The request, for a failure's message. */
  what: string;
}

/**
 * A property whose every case is one request: `ask` sends it. Every answer must be a client answer
 * (see expectClientAnswer), the answers must include successes and refusals (or what `reached`
 * checks instead), and afterwards the server must be unharmed (see expectUnharmed).
 */
export async function checkAnswers<T>(options: {
  name: string;
  cases: fc.Arbitrary<T>;
  ask: (c: T) => Promise<AskedCase>;
  runs: number;
  server: { management: string; metrics: string; alive: boolean };
  before: Baseline;
  examples?: T[];
  reached?: (tally: Tally) => void;
}): Promise<void> {
  const tally = new Tally(options.name);
  await checkProperty(
    options.name,
    fc.asyncProperty(options.cases, async (c) => {
      const { answer, what } = await options.ask(c);
      if (answer !== undefined) expectClientAnswer(answer, what);
      tally.add(answer?.status ?? 'no answer');
    }),
    options.runs,
    options.examples ? { examples: options.examples.map((e) => [e] as [T]) } : {},
  );
  tally.report();
  if (options.reached) options.reached(tally);
  else {
    expect(tally.count((k) => typeof k === 'number' && k < 300), `${options.name}: no input was accepted`).toBeGreaterThan(0);
    expect(tally.count((k) => typeof k === 'number' && k >= 400), `${options.name}: no input was refused`).toBeGreaterThan(0);
  }
  await expectUnharmed(options.server, options.before);
}
