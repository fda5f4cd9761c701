import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bannerAddress } from './helpers/cli-run.js';
import { ROOT, tempDir } from './helpers/models.js';

const exec = promisify(execFile);

/**
 * A new user's first minutes, on a fresh clone of this repository's HEAD (commit before running it):
 * `npm install`, `npx model-server --help`, `npm start`, then their own `npx model-server start`.
 * Every listener is on a free port (TS_* variables), so it runs beside anything on 8080.
 */
let clone: string;
let env: NodeJS.ProcessEnv;

function run(cmd: string, args: string[], timeout = 600_000): Promise<{ stdout: string; stderr: string }> {
  return exec(cmd, args, { cwd: clone, env, timeout, maxBuffer: 16 * 1024 * 1024 });
}

beforeAll(async () => {
  const base = await tempDir('ms-clone-');
  clone = join(base, 'model-server');
  env = {
    ...process.env,
    ONNXRUNTIME_NODE_INSTALL: 'skip',
    MODEL_SERVER_STATE_DIR: base,
    LOG_LEVEL: 'warn',
    TS_ENABLE_ENVVARS_CONFIG: 'true',
    TS_INFERENCE_ADDRESS: 'http://127.0.0.1:0',
    TS_MANAGEMENT_ADDRESS: 'http://127.0.0.1:0',
    TS_METRICS_ADDRESS: 'http://127.0.0.1:0',
    TS_GRPC_INFERENCE_PORT: '0',
    TS_GRPC_MANAGEMENT_PORT: '0',
  };
  delete env['LOG_LOCATION'];
  await exec('git', ['clone', '--quiet', ROOT, clone], { timeout: 120_000 });
  // Offline: the lockfile's packages come from npm's cache, as in CI after `npm ci`.
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund']);
}, 900_000);
afterAll(async () => {
  if (clone && existsSync(clone)) {
    await run('npx', ['model-server', 'stop']).catch(() => undefined);
    await rm(join(clone, '..'), { recursive: true, force: true });
  }
});

describe('a fresh clone', () => {
  it('runs npx model-server, npx model-archiver and npx workflow-archiver from this checkout right after npm install', async () => {
    expect(existsSync(join(clone, 'packages', 'cli', 'dist'))).toBe(false);
    expect(await readlink(join(clone, 'node_modules', '.bin', 'model-server'))).toBe('../@model-server/cli/bin/model-server.js');
    expect(await readlink(join(clone, 'node_modules', '.bin', 'model-archiver'))).toBe('../@model-server/model-archiver/bin/model-archiver.js');
    expect(await readlink(join(clone, 'node_modules', '.bin', 'workflow-archiver'))).toBe('../@model-server/workflow-archiver/bin/workflow-archiver.js');
    const help = await run('npx', ['model-server', '--help']);
    expect(help.stdout).toContain('model-server --start | --stop | -v | --help');
    expect(help.stderr).toContain('model-server: first run in this checkout: building packages/cli');
    const archiver = await run('npx', ['model-archiver', '--help']);
    expect(archiver.stdout).toContain('usage: model-archiver --model-name NAME');
    const workflowArchiver = await run('npx', ['workflow-archiver', '--help']);
    expect(workflowArchiver.stdout).toContain('usage: workflow-archiver');
    // Built once: the next run says nothing about building.
    expect((await run('npx', ['model-server', '-v'])).stderr).not.toContain('building');
  }, 900_000);

  it('serves the demo with npm start, then the user\'s own start with token authorization on', async () => {
    const demo = spawn('npm', ['start'], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
    demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => demo.once('exit', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (/token authorization is off/.test(out)) resolve();
      };
      demo.stdout.on('data', check);
      void exited.then(({ code }) => reject(new Error(`npm start exited (${code}):\n${out}`)));
    });
    expect(out).toMatch(/models:\s+.*\bmnist\b/);
    const demoInference = bannerAddress(out, 'inference');
    expect((await fetch(`${demoInference}/predictions/mnist`, { method: 'POST', body: await readFile(join(clone, 'examples', 'mnist', 'samples', 'digit-7.png')) })).status).toBe(200);
    // Ctrl-C as a terminal sends it: to the whole process group (npm, its shell, the server). npm
    // itself then ends by the signal; the server stops and its port closes.
    process.kill(-demo.pid!, 'SIGINT');
    await exited;
    await expect(fetch(`${demoInference}/ping`)).rejects.toThrow();
    // The demo leaves no config snapshot for the next start to restore.
    expect(existsSync(join(clone, 'logs', 'config')) ? await readdir(join(clone, 'logs', 'config')) : []).toEqual([]);

    const started = await run('npx', ['model-server', 'start', '--model-store', 'model-store', '--models', 'mnist=mnist.mar']);
    const keyFile = join(clone, 'key_file.json');
    expect(started.stdout).toContain(`token authorization is on: keys in ${keyFile}`);
    const inference = bannerAddress(started.stdout, 'inference');
    const digit = await readFile(join(clone, 'examples', 'mnist', 'samples', 'digit-7.png'));
    expect((await fetch(`${inference}/predictions/mnist`, { method: 'POST', body: digit })).status).toBe(401);
    const keys = JSON.parse(await readFile(keyFile, 'utf8')) as { inference: { key: string } };
    const predicted = await fetch(`${inference}/predictions/mnist`, { method: 'POST', body: digit, headers: { authorization: `Bearer ${keys.inference.key}` } });
    expect(await predicted.text()).toBe('7');
    expect((await run('npx', ['model-server', 'stop'])).stdout).toContain('has stopped');
  }, 900_000);
});
