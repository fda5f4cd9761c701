import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_VMARGS, DEFAULT_WORKER_VMARGS, gatewayNodeArgs, loadServerConfig, workerLaunch } from '@model-server/gateway';
import { buildModel, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';

/** A process's command line and environment as the kernel started it. */
async function launchedWith(pid: number): Promise<{ argv: string[]; env: string[] }> {
  const split = (text: string): string[] => text.split('\0').filter((s) => s !== '');
  return { argv: split(await readFile(`/proc/${pid}/cmdline`, 'utf8')), env: split(await readFile(`/proc/${pid}/environ`, 'utf8')) };
}

describe('vmargs and worker_vmargs', () => {
  it('default to the memory-saving V8 flags', () => {
    const config = loadServerConfig({});
    expect(config.vmargs).toBe(DEFAULT_GATEWAY_VMARGS);
    expect(gatewayNodeArgs(config)).toContain('--max-semi-space-size=4');
    expect(workerLaunch(config).nodeArgs).toEqual(DEFAULT_WORKER_VMARGS.split(' '));
    expect(gatewayNodeArgs(loadServerConfig({ overrides: { vmargs: '' } }))).toEqual([]);
  });

  it('refuse anything but node flags, naming the key', () => {
    expect(() => loadServerConfig({ overrides: { vmargs: 'server.js' } })).toThrow(/vmargs: must be node flags separated by spaces.*"server\.js"/);
    expect(() => loadServerConfig({ overrides: { worker_vmargs: '--max-semi-space-size=1 -e' } })).toThrow(/worker_vmargs: must be node flags/);
  });

  it('give a worker MALLOC_ARENA_MAX=2 and a fixed 1 MB mmap threshold unless the gateway environment sets them', () => {
    const config = loadServerConfig({});
    expect(workerLaunch(config, {}).env).toEqual({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '1048576' });
    expect(workerLaunch(config, { MALLOC_ARENA_MAX: '4' }).env).toEqual({ MALLOC_MMAP_THRESHOLD_: '1048576' });
    expect(workerLaunch(config, { MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '131072' }).env).toEqual({});
  });
});

describe('a worker spawned by the gateway', () => {
  let server: TestServer;

  beforeAll(async () => {
    const store = await tempDir();
    await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
    server = await startServer({ store, models: ['probe.mar'], config: { worker_vmargs: '--max-semi-space-size=3  --stack-size=900' } });
  });
  afterAll(() => server?.stop());

  it('runs node with worker_vmargs before its entry script, and the default malloc arena limit', async () => {
    const echo = await postJson(`${server.url}/predictions/probe`, { op: 'echo' });
    expect(echo.status).toBe(200);
    const { argv, env } = await launchedWith(echo.json['pid'] as number);
    expect(argv.slice(1, 3)).toEqual(['--max-semi-space-size=3', '--stack-size=900']);
    expect(argv[3]).toMatch(/worker[/\\]dist[/\\]main\.js$/);
    expect(env).toContain(`MALLOC_ARENA_MAX=${process.env['MALLOC_ARENA_MAX'] ?? '2'}`);
    expect(env).toContain(`MALLOC_MMAP_THRESHOLD_=${process.env['MALLOC_MMAP_THRESHOLD_'] ?? '1048576'}`);
  });
});
