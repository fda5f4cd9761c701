import fc from 'fast-check';

/**
 * fast-check parameters shared by the property tests. Every run draws a new seed unless FUZZ_SEED
 * fixes one; a failure's message names the seed and the shrink path, and
 * `FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run <file>` replays exactly that case.
 * FUZZ_RUNS multiplies every property's run count (FUZZ_RUNS=10 for a long hunt; the default sizes
 * keep the suite within its time budget on 2 cores).
 */
export function fuzzParams<T>(numRuns: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  const seed = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const path = process.env['FUZZ_PATH'];
  const scale = Number(process.env['FUZZ_RUNS'] ?? 1);
  return {
    seed,
    numRuns: Math.max(1, Math.round(numRuns * (Number.isFinite(scale) && scale > 0 ? scale : 1))),
    ...(path !== undefined ? { path } : {}),
    ...extra,
  };
}

/** Runs a property with fuzzParams; the seed and path also go to stderr, as a failing run ends the test. */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  name: string,
  property: fc.IRawProperty<Ts>,
  numRuns: number,
  extra: fc.Parameters<Ts> = {},
): Promise<void> {
  const params = fuzzParams(numRuns, extra);
  const details = await fc.check(property, params);
  if (details.failed) {
    const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''}`;
    process.stderr.write(`property "${name}" failed; replay with ${replay}\n`);
    throw new Error(`property "${name}" failed after ${details.numRuns} run(s) (${replay}):\n${fc.defaultReportMessage(details) ?? ''}`);
  }
}

/** `undefined` most of the time, a value of `arb` about once in `oneIn` (fc.option's `freq` is the reverse). */
export function sometimes<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

/** A test's time limit for properties sized by FUZZ_RUNS: `baseMs` at the default size, scaled with it. */
export function fuzzTimeout(baseMs: number): number {
  const scale = Number(process.env['FUZZ_RUNS'] ?? 1);
  return Math.round(baseMs * (Number.isFinite(scale) && scale > 1 ? scale : 1));
}
