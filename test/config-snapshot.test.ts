import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { mgmt } from './helpers/management.js';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { waitFor } from './helpers/wait.js';

const CLI = join(ROOT, 'packages', 'cli', 'dist', 'main.js');

let run: string;
let store: string;
let snapshots: string;

interface Running {
  child: ResultPromise;
  management: string;
  inference: string;
  output: () => string;
}

/** Starts `model-server start --foreground` in `run` and waits for its banner. */
async function start(...flags: string[]): Promise<Running> {
  const child = execa(process.execPath, [CLI, 'start', '--foreground', '--model-store', store, '--disable-token-auth', ...flags], {
    cwd: run,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    env: {
      LOG_LOCATION: join(run, 'logs'),
      MODEL_SERVER_STATE_DIR: run,
      LOG_LEVEL: 'warn',
      TS_ENABLE_ENVVARS_CONFIG: 'true',
      TS_INFERENCE_ADDRESS: 'http://127.0.0.1:0',
      TS_MANAGEMENT_ADDRESS: 'http://127.0.0.1:0',
      TS_METRICS_ADDRESS: 'http://127.0.0.1:0',
    },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(
    () => {
      if (child.exitCode !== null && child.exitCode !== undefined) throw new Error(`server exited: ${out}`);
      return /models:/.test(out);
    },
    60_000,
    'the server banner',
  );
  const address = (name: string) => new RegExp(`${name}:\\s+(http://\\S+)`).exec(out)![1]!;
  return { child, management: address('management'), inference: address('inference'), output: () => out };
}

async function stop(r: Running): Promise<void> {
  r.child.kill('SIGTERM');
  const result = await r.child;
  expect(result.exitCode).toBe(0);
}

async function describeModels(r: Running): Promise<Record<string, { workers: number; default: string }>> {
  const out: Record<string, { workers: number; default: string }> = {};
  const list = await mgmt(r.management, 'GET', '/models');
  for (const { modelName } of list.json.models as { modelName: string }[]) {
    const d = await mgmt(r.management, 'GET', `/models/${modelName}`);
    out[modelName] = { workers: d.json[0].workers.length, default: d.json[0].modelVersion };
  }
  return out;
}

const files = async () => (await readdir(snapshots).catch(() => [] as string[])).sort();

beforeAll(async () => {
  run = await tempDir('ms-run-');
  store = await tempDir();
  snapshots = join(run, 'logs', 'config');
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
  await buildModel(store, { name: 'extra', config: 'minWorkers: 1\nbatchSize: 3\nmaxBatchDelay: 7\n' });
});

describe('config snapshots', () => {
  it('are written at start, after each change and at stop, and a restart without --ncs restores the models', async () => {
    const first = await start('--models', 'probe.mar', '--enable-model-api');
    expect((await files()).map((f) => f.replace(/^\d{17}-/, ''))).toEqual(['startup.cfg']);
    expect((await mgmt(first.management, 'POST', '/models?url=extra.mar&initial_workers=1')).status).toBe(200);
    expect((await mgmt(first.management, 'PUT', '/models/probe?min_worker=2&max_worker=2&synchronous=true')).status).toBe(200);
    await waitFor(async () => (await files()).length === 3, 10_000, 'two change snapshots');
    await stop(first);
    const written = await files();
    expect(written.map((f) => f.replace(/^\d{17}-/, ''))).toEqual(['startup.cfg', 'snapshot.cfg', 'snapshot.cfg', 'shutdown.cfg']);
    const last = await readFile(join(snapshots, written.at(-1)!), 'utf8');
    expect(last).toMatch(/^enable_model_api=true$/m);
    expect(last).not.toMatch(/_key=/);
    const snapshot = JSON.parse(/^model_snapshot=(.*)$/m.exec(last)![1]!);
    expect(snapshot).toMatchObject({
      modelCount: 2,
      models: {
        probe: { '1.0': { defaultVersion: true, marName: 'probe.mar', minWorkers: 2, maxWorkers: 2, runtimeType: 'node' } },
        extra: { '1.0': { defaultVersion: true, marName: 'extra.mar', minWorkers: 1, batchSize: 3, maxBatchDelay: 7 } },
      },
    });

    // --models is ignored when a snapshot is restored, as in TorchServe.
    const second = await start('--models', 'probe.mar');
    expect(second.output()).toMatch(/restoring from config snapshot .*shutdown\.cfg/);
    expect(await describeModels(second)).toEqual({ extra: { workers: 1, default: '1.0' }, probe: { workers: 2, default: '1.0' } });
    const extra = await mgmt(second.management, 'GET', '/models/extra');
    expect(extra.json[0]).toMatchObject({ batchSize: 3, maxBatchDelay: 7, loadedAtStartup: true });
    // enable_model_api came back from the snapshot too.
    expect((await mgmt(second.management, 'DELETE', '/models/extra')).status).toBe(200);
    await stop(second);

    const third = await start();
    expect(await describeModels(third)).toEqual({ probe: { workers: 2, default: '1.0' } });
    await stop(third);
  });

  it('--ncs starts from --models alone and writes no snapshot', async () => {
    const before = await files();
    const r = await start('--ncs', '--models', 'extra.mar');
    expect(r.output()).not.toMatch(/restoring/);
    expect(await describeModels(r)).toEqual({ extra: { workers: 1, default: '1.0' } });
    await stop(r);
    expect(await files()).toEqual(before);
  });
});
