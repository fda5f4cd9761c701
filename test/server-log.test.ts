import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel, tempDir } from './helpers/models.js';
import { CLI } from './helpers/server-process.js';
import { waitFor } from './helpers/wait.js';

const run = promisify(execFile);
let env: NodeJS.ProcessEnv | undefined;

afterAll(async () => {
  if (env) await run(process.execPath, [CLI, 'stop'], { env }).catch(() => undefined);
});

describe('a server started in the background', () => {
  it('writes its log to model_server.log itself, rotated by size, and its raw output to model_server.out', async () => {
    const store = await tempDir();
    const dir = await tempDir('ms-bglog-');
    await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nbatchSize: 1\n' });
    const config = join(dir, 'config.properties');
    await writeFile(
      config,
      ['inference_address=http://127.0.0.1:0', 'management_address=http://127.0.0.1:0', 'metrics_address=http://127.0.0.1:0', 'grpc_inference_port=0', 'grpc_management_port=0', 'log_max_file_size=2048', 'log_max_files=1', ''].join('\n'),
    );
    env = { ...process.env, MODEL_SERVER_STATE_DIR: dir, LOG_LOCATION: dir, LOG_LEVEL: 'debug' };
    const { stdout } = await run(process.execPath, [CLI, 'start', '--ncs', '--ts-config', config, '--model-store', store, '--models', 'probe=probe.mar', '--disable-token-auth'], { env });
    const url = /inference:\s+(http:\/\/\S+)/.exec(stdout)![1]!;
    // Each request logs a debug line (its batch); a few dozen fill 2 KB more than once.
    for (let i = 0; i < 60; i++) await fetch(`${url}/predictions/probe`, { method: 'POST', body: '{"op":"echo"}', headers: { 'content-type': 'application/json' } });
    await waitFor(async () => (await readdir(dir)).includes('model_server.log.1'), 10_000, 'a rotated server log');
    const files = (await readdir(dir)).filter((f) => f.startsWith('model_server.log'));
    expect(files.sort()).toEqual(['model_server.log', 'model_server.log.1']);
    const lines = (await readFile(join(dir, 'model_server.log.1'), 'utf8')).trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(await readFile(join(dir, 'model_server.out'), 'utf8')).toMatch(/started \(pid \d+\)/);
  });
});
