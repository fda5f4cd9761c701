import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mgmt } from './helpers/management.js';
import { ROOT, buildModel, tempDir } from './helpers/models.js';
import { infer } from './helpers/oip-client.js';
import { postJson, startServer } from './helpers/server.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';

const MNIST_ONNX = join(ROOT, 'examples', 'mnist', 'mnist.onnx');

let server: ServerProcess;
let store: string;
let digits: { pixels: Float32Array; label: number }[];

async function place(dir: string, file = 'model.onnx'): Promise<string> {
  await mkdir(dir, { recursive: true });
  await copyFile(MNIST_ONNX, join(dir, file));
  return join(dir, file);
}

beforeAll(async () => {
  const outside = await tempDir('ms-raw-');
  store = await tempDir('ms-raw-store-');
  // KServe's /mnt/models holding model.onnx, and a bare .onnx file named on the command line.
  const mnt = join(outside, 'mnt', 'models');
  await place(mnt);
  const bare = await place(join(outside, 'elsewhere'), 'digits-v7.onnx');
  // What KServe's storage initializer leaves for a single .mar: a folder holding it.
  const storage = join(outside, 'storage');
  await buildModel(storage, { name: 'probe', config: 'minWorkers: 1\n' });
  // In the store: a loose .onnx, Triton's layout (two versions, all served), KServe's <name>/<version>/model.onnx
  // (latest served), and a Triton model that batches nothing without dynamic_batching.
  await place(store, 'loose.onnx');
  await place(join(store, 'tri', '1'));
  await place(join(store, 'tri', '2'));
  await writeFile(
    join(store, 'tri', 'config.pbtxt'),
    [
      'name: "tri"',
      'platform: "onnxruntime_onnx"',
      'max_batch_size: 8',
      '# Triton batches dynamically only with this section',
      'dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 2000 }',
      'instance_group [ { count: 1, kind: KIND_CPU } ]',
      'version_policy: { all { } }',
      'input [ { name: "input", data_type: TYPE_FP32, dims: [ 784 ] } ]',
      'output [ { name: "logits", data_type: TYPE_FP32, dims: [ 10 ] } ]',
      'model_warmup [ { name: "w" } ]',
    ].join('\n'),
  );
  await place(join(store, 'kserve_m', '1'));
  await place(join(store, 'kserve_m', '3'));
  await place(join(store, 'nobatch', '1'));
  await writeFile(join(store, 'nobatch', 'config.pbtxt'), 'max_batch_size: 8\ninstance_group [ { count: 2 } ]\n');
  await mkdir(join(store, 'notes'));
  await writeFile(join(store, 'notes', 'README.txt'), 'not a model');
  await mkdir(join(store, 'two_mars'));
  await buildModel(join(store, 'two_mars'), { name: 'a' });
  await buildModel(join(store, 'two_mars'), { name: 'b' });
  const workers = { minWorkers: 1 };
  server = await startServerProcess({
    store,
    models: [`digits=${mnt}`, `bare=${bare}`, 'all', `fromdir=${storage}`],
    // Raw models get their workers from the models block: KServe's users name none.
    properties: {
      default_workers_per_model: 0,
      models: JSON.stringify({ digits: { '1': workers }, bare: { '1': workers }, loose: { '1': workers }, kserve_m: { '3': workers } }),
    },
    args: ['--enable-model-api'],
  });
  const { heldOutSet } = await import('../scripts/lib/mnist-split.mjs');
  const all = heldOutSet();
  digits = [all[0]!, all[500]!, all[1000]!];
});
afterAll(async () => {
  await server?.stop();
});

/** The argmax of the logits a v2 infer answers for one digit. */
async function predictDigit(path: string, pixels: Float32Array): Promise<number> {
  const r = await infer(`${server.url}/v2/models/${path}/infer`, { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: Array.from(pixels) }] });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  const logits = (r.json['outputs'] as { name: string; data: number[] }[]).find((o) => o.name === 'logits')!.data;
  return logits.indexOf(Math.max(...logits));
}

describe('models without an archive, served by the built-in ONNX handler', () => {
  it('loads every layout: a folder with model.onnx, a bare .onnx, the store\'s .onnx, Triton\'s and KServe\'s versioned folders, a folder holding one .mar', async () => {
    const listed = (await mgmt(server.management, 'GET', '/models')).json.models.map((m: { modelName: string }) => m.modelName);
    expect(listed).toEqual(['bare', 'digits', 'fromdir', 'kserve_m', 'loose', 'nobatch', 'tri']);
    for (const name of ['digits', 'bare', 'loose']) {
      for (const d of digits) expect(await predictDigit(name, d.pixels), name).toBe(d.label);
    }
    const d = (await mgmt(server.management, 'GET', '/models/digits')).json[0];
    expect(d).toMatchObject({ modelVersion: '1', runtime: 'node', batchSize: 1 });
    expect((await postJson(`${server.url}/predictions/fromdir`, { op: 'echo', value: 5 })).json).toMatchObject({ value: 5 });
  });

  it("takes batching, instances and versions from Triton's config.pbtxt", async () => {
    const tri = (await mgmt(server.management, 'GET', '/models/tri/all')).json as Record<string, unknown>[];
    expect(tri.map((v) => v['modelVersion']).sort()).toEqual(['1', '2']);
    for (const v of tri) expect(v).toMatchObject({ batchSize: 8, maxBatchDelay: 2, minWorkers: 1, maxWorkers: 1 });
    // The highest version is the default, as Triton serves the latest.
    expect((await mgmt(server.management, 'GET', '/models/tri')).json[0].modelVersion).toBe('2');
    for (const version of ['1', '2']) expect(await predictDigit(`tri/versions/${version}`, digits[1]!.pixels)).toBe(digits[1]!.label);
    expect(await predictDigit('tri', digits[2]!.pixels)).toBe(digits[2]!.label);
    // No dynamic_batching: one request at a time, whatever max_batch_size says; two instances, two workers.
    expect((await mgmt(server.management, 'GET', '/models/nobatch')).json[0]).toMatchObject({ batchSize: 1, minWorkers: 2 });
    // KServe's <name>/<version>/model.onnx without a config: the latest version only.
    expect(((await mgmt(server.management, 'GET', '/models/kserve_m/all')).json as { modelVersion: string }[]).map((v) => v.modelVersion)).toEqual(['3']);
    expect(await predictDigit('kserve_m', digits[0]!.pixels)).toBe(digits[0]!.label);
    // What config.pbtxt holds beyond that is named once at load.
    expect(server.output()).toContain('config.pbtxt fields not acted on: model_warmup');
  });

  it('restores each version of a versioned folder from a config snapshot, once', async () => {
    const snapshot = (await mgmt(server.management, 'GET', '/models/tri/all')).json.map((v: { modelVersion: string }) => v.modelVersion);
    const entry = (version: string) => ({ defaultVersion: version === '1', marName: 'tri', minWorkers: 0 });
    const restored = await startServer({ store, models: [], config: { model_snapshot: JSON.stringify({ models: { tri: Object.fromEntries(snapshot.map((v: string) => [v, entry(v)])) } }) } });
    try {
      expect(restored.gateway.registry.versionsOf('tri').map((v) => v.version).sort()).toEqual(['1', '2']);
      expect(restored.gateway.registry.defaultVersionOf('tri')).toBe('1');
      // Each entry registered its own version: both count as loaded at start-up, none failed.
      const described = (await mgmt(restored.management, 'GET', '/models/tri/all')).json as { loadedAtStartup: boolean }[];
      expect(described.map((d) => d.loadedAtStartup)).toEqual([true, true]);
    } finally {
      await restored.stop();
    }
  });

  it('refuses a folder that holds no model, saying what it expected', async () => {
    const r = await mgmt(server.management, 'POST', '/models?url=notes&synchronous=true');
    expect(r.status).toBe(400);
    expect(r.json.type).toBe('InvalidModelException');
    expect(r.json.message).toContain('No MAR-INF/MANIFEST.json in this folder. Expected one of: a model archive folder');
    expect(r.json.message).toContain("Triton's or KServe's layout (config.pbtxt and/or <version>/model.onnx)");
    expect(r.json.message).toContain('found: README.txt');
    const two = await mgmt(server.management, 'POST', '/models?url=two_mars&synchronous=true');
    expect(two.status).toBe(400);
    expect(two.json.message).toContain('it holds several archives (a.mar, b.mar): name one of them');
  });
});
