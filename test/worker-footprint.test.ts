import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { WORKER_ENTRY } from '@model-server/worker';

/** Packages in a module's static and literal-dynamic import graph, as esbuild resolves it. */
async function packagesLoadedBy(entry: string): Promise<string[]> {
  const result = await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent', external: ['*.node'] });
  const names = new Set<string>();
  for (const file of Object.keys(result.metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}

describe('worker footprint', () => {
  it('a worker process loads neither zod, yaml nor the archive readers (each costs every worker resident memory)', async () => {
    const loaded = await packagesLoadedBy(WORKER_ENTRY);
    // The walk does see the worker's real dependencies...
    expect(loaded).toEqual(expect.arrayContaining(['msgpackr', 'onnxruntime-node']));
    // ...and none of what only the gateway needs: it validates archives and config, and sends the results.
    for (const heavy of ['zod', 'yaml', 'yauzl', 'tar', 'pino', 'express']) expect(loaded).not.toContain(heavy);
  });
});
