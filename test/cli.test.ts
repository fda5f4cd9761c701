import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayNodeArgs, loadServerConfig } from '@model-server/gateway';
import { ROOT, buildModel, tempDir } from './helpers/models.js';

const run = promisify(execFile);
const CLI = join(ROOT, 'packages/cli/dist/main.js');

let store: string;
let stateDir: string;
let env: NodeJS.ProcessEnv;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A live process's command line; rejects once the process is gone. */
async function cmdline(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((s) => s !== '');
}

beforeAll(async () => {
  store = await tempDir();
  stateDir = await tempDir('ms-state-');
  await buildModel(store, { name: 'probe' });
  env = { ...process.env, MODEL_SERVER_STATE_DIR: stateDir, LOG_LOCATION: stateDir, LOG_LEVEL: 'warn' };
  await writeFile(
    join(stateDir, 'config.properties'),
    ['# ports chosen by the OS', 'inference_address=http://127.0.0.1:0', 'management_address=http://127.0.0.1:0', 'metrics_address=http://127.0.0.1:0', 'grpc_inference_port=0', 'grpc_management_port=0', ''].join('\n'),
  );
});
afterAll(async () => {
  await cli('stop');
});

describe('model-server CLI', () => {
  it('starts in the background, returns once /ping answers, serves, reports status, and stops', async () => {
    const started = await cli('start', '--ts-config', join(stateDir, 'config.properties'), '--model-store', store, '--models', 'probe=probe.mar', '--disable-token-auth');
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const inference = /inference:\s+(http:\/\/\S+)/.exec(started.stdout)?.[1];
    expect(inference).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${inference}/ping`);
    expect(await res.json()).toEqual({ status: 'Healthy' });
    // The detached server is started with the default vmargs; it needs no relaunch of its own.
    const pid = Number(/started \(pid (\d+)\)/.exec(started.stdout)?.[1]);
    expect(await cmdline(pid)).toEqual(expect.arrayContaining([...gatewayNodeArgs(loadServerConfig({}))]));
    const predicted = await fetch(`${inference}/predictions/probe`, { method: 'POST', body: '{"op":"echo","value":7}', headers: { 'content-type': 'application/json' } });
    expect(((await predicted.json()) as { value: number }).value).toBe(7);

    const again = await cli('start', '--model-store', store);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already running/);

    const status = await cli('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/is running/);

    const stopped = await cli('stop');
    expect(stopped.stdout).toMatch(/has stopped/);
    await expect(fetch(`${inference}/ping`)).rejects.toThrow();
    expect((await cli('status')).code).toBe(1);
  });

  it('refuses a bad config value, naming the key and the file', async () => {
    const file = join(stateDir, 'bad.properties');
    await writeFile(file, 'job_queue_size=lots\n');
    const r = await cli('start', '--foreground', '--ts-config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.properties');
    expect(r.stderr).toContain('job_queue_size');
  });

  it('relaunches node with the configured vmargs when started in the foreground, and passes SIGTERM on', async () => {
    const file = join(stateDir, 'vmargs.properties');
    await writeFile(file, `${await readFile(join(stateDir, 'config.properties'), 'utf8')}vmargs=--max-semi-space-size=3 --stack-size=900\n`);
    const launcher = spawn(process.execPath, [CLI, 'start', '--foreground', '--ncs', '--ts-config', file, '--model-store', store, '--models', 'probe=probe.mar', '--disable-token-auth'], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
    let stdout = '';
    const serverPid = await new Promise<number>((resolve, reject) => {
      launcher.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /started \(pid (\d+)\)/.exec(stdout);
        if (match) resolve(Number(match[1]));
      });
      void exited.then((code) => reject(new Error(`launcher exited (${code}) before the server started: ${stdout}`)));
    });
    expect(serverPid).not.toBe(launcher.pid);
    const argv = await cmdline(serverPid);
    expect(argv.slice(1, 3)).toEqual(['--max-semi-space-size=3', '--stack-size=900']);
    expect(argv.slice(3, 5)).toEqual([CLI, 'start']);
    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(cmdline(serverPid)).rejects.toThrow();
  });

  it('refuses vmargs that are not node flags before starting anything, naming the node flag for a JVM one', async () => {
    const file = join(stateDir, 'bad-vmargs.properties');
    await writeFile(file, 'vmargs=-Xmx128m\n');
    const r = await cli('start', '--ts-config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad-vmargs.properties');
    expect(r.stderr).toContain('vmargs: holds JVM flags, and model-server runs node: write vmargs=--max-old-space-size=128');
    await writeFile(file, 'worker_vmargs=script.js\n');
    const other = await cli('start', '--ts-config', file);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/worker_vmargs: must be node flags/);
  });

  it('refuses an unknown command with usage', async () => {
    const r = await cli('launch');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: model-server start/);
  });
});
