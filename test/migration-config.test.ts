import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_HONOURED, TORCHSERVE_KEYS, loadServerConfig, serverConfigSchema } from '@model-server/gateway';
import { bannerAddress, cliFolder, type CliFolder } from './helpers/cli-run.js';
import { mgmt } from './helpers/management.js';
import { ROOT, buildModel, tempDir } from './helpers/models.js';
import { startServerProcess } from './helpers/server-process.js';
import { postJson, startServer } from './helpers/server.js';

let store: string;
let stateDir: string;
const folders: CliFolder[] = [];

beforeAll(async () => {
  store = await tempDir();
  stateDir = await tempDir('ms-state-');
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
  await buildModel(store, { name: 'plain' });
  await buildModel(store, { name: 'yamlwins', config: 'batchSize: 2\n' });
  await buildModel(store, { name: 'ver', version: '1.0' });
  await buildModel(store, { name: 'ver_two', version: '2.0' });
  await buildModel(store, {
    name: 'odd',
    config: 'minWorkers: 1\nbatchsize: 4\ndeviceType: gpu\nparallelType: pp\ncontinuousBatching: true\nsequenceBatching: false\nhandler:\n  x: 1\n',
  });
});
afterAll(async () => {
  for (const f of folders) await f.run('stop');
});

async function configFile(lines: string[]): Promise<string> {
  const dir = await tempDir('ms-cfg-');
  const file = join(dir, 'config.properties');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** A value each honoured TorchServe key accepts, to load it and see no warning. */
const SAMPLES: Readonly<Record<string, string>> = {
  inference_address: 'http://127.0.0.1:0',
  management_address: 'http://127.0.0.1:0',
  metrics_address: 'http://127.0.0.1:0',
  model_store: '/models',
  workflow_store: '/workflows',
  load_models: 'all',
  models: '{"m":{"1.0":{"minWorkers":1}}}',
  default_workers_per_model: '1',
  job_queue_size: '10',
  max_request_size: '1000',
  max_response_size: '1000',
  default_response_timeout: '10',
  default_startup_timeout: '10',
  unregister_model_timeout: '10',
  enable_envvars_config: 'false',
  use_env_allowed_urls: 'false',
  private_key_file: '',
  certificate_file: '',
  allowed_urls: 'file://.*',
  enable_model_api: 'true',
  disable_token_authorization: 'true',
  token_expiration_min: '5',
  metrics_mode: 'prometheus',
  metrics_format: 'prometheus',
  service_envelope: 'kservev2',
  ts_open_inference_protocol: 'true',
  vmargs: '--max-semi-space-size=4',
  model_snapshot: '',
  grpc_inference_address: '127.0.0.1',
  grpc_management_address: '127.0.0.1',
  grpc_inference_port: '7070',
  grpc_management_port: '7071',
  enable_grpc_ssl: 'false',
};

function load(lines: string[]): Promise<{ warnings: string[]; error?: Error }> {
  return configFile(lines).then((file) => {
    const warnings: string[] = [];
    try {
      loadServerConfig({ file, warn: (m) => warnings.push(m) });
      return { warnings };
    } catch (error) {
      return { warnings, error: error as Error };
    }
  });
}

describe("TorchServe's config.properties keys", () => {
  it('lists every key in docs/configuration.md with the fate the code gives it', async () => {
    const doc = await readFile(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const section = doc.slice(doc.indexOf("## TorchServe's keys"));
    const rows = [...section.matchAll(/^\| `([a-z_]+)` \| (honoured|warned|refused) \| (.*) \|$/gm)].map((m) => [m[1], m[2], m[3]!.replace(/\\\|/g, '|')]);
    expect(rows).toEqual(Object.entries(TORCHSERVE_KEYS).map(([k, v]) => [k, v.status, v.note]));
  });

  it.each(Object.entries(TORCHSERVE_KEYS).map(([key, v]) => [key, v.status] as const))('%s is %s by the loader', async (key, status) => {
    if (status === 'honoured') {
      expect(SAMPLES, `a sample value for ${key}`).toHaveProperty(key);
      const r = await load([`${key}=${SAMPLES[key]}`]);
      expect(r.error).toBeUndefined();
      expect(r.warnings).toEqual([]);
      expect(Object.hasOwn(serverConfigSchema.shape, key) || ALWAYS_HONOURED.has(key), `${key} is read`).toBe(true);
    } else if (status === 'warned') {
      const r = await load([`${key}=1`]);
      expect(r.error).toBeUndefined();
      expect(r.warnings).toEqual([expect.stringContaining(`${key} has no effect here: ${TORCHSERVE_KEYS[key]!.note}`)]);
    } else {
      const r = await load([`${key}=x`]);
      expect(r.error?.message).toContain(`${key} is not supported`);
    }
  });

  it('warns about an unknown key with the key it probably meant, through the real CLI', async () => {
    const f = await cliFolder(stateDir);
    folders.push(f);
    const file = await configFile(['inference_adress=http://127.0.0.1:9', 'inference_address=http://127.0.0.1:0', 'management_address=http://127.0.0.1:0', 'metrics_address=http://127.0.0.1:0', 'grpc_inference_port=0', 'grpc_management_port=0', 'NUM_WORKERS=1']);
    const r = await f.run('start', '--ts-config', file, '--dt', '--ncs');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('key "inference_adress" is not used by model-server (did you mean "inference_address"?)');
    expect(r.stderr).toContain('key "NUM_WORKERS" is not used by model-server');
  });

  it('names the node flag for a JVM vmargs value', async () => {
    const r = await load(['vmargs=-Xmx4g -XX:+UseG1GC -Dlog4j.configurationFile=x.xml']);
    expect(r.error?.message).toContain(
      'vmargs: holds JVM flags, and model-server runs node: write vmargs=--max-old-space-size=4096 (-Xmx4g -> --max-old-space-size=4096; ' +
        '-XX:+UseG1GC: dropped, V8 has one garbage collector; -Dlog4j.configurationFile=x.xml: dropped, Java system properties have no node form',
    );
  });

  it('reads TS_ALLOWED_URLS only with use_env_allowed_urls, as TorchServe', async () => {
    const file = await configFile(['enable_envvars_config=true']);
    const env = { TS_ALLOWED_URLS: 'https://models.example/.*', TS_JOB_QUEUE_SIZE: '7' };
    const plain = loadServerConfig({ file, env });
    expect(plain.job_queue_size).toBe(7);
    expect(plain.allowed_urls).toBe('file://.*|http(s)?://.*');
    expect(loadServerConfig({ file, env: { ...env, TS_USE_ENV_ALLOWED_URLS: 'true' } }).allowed_urls).toBe('https://models.example/.*');
  });
});

describe("KServe's stock TorchServe config: inference and management on one address", () => {
  it('serves both route sets on one listener, each with its own key', async () => {
    const port = await freePort();
    const shared = `http://127.0.0.1:${port}`;
    const snapshot = { name: 'startup.cfg', modelCount: 1, models: { probe: { '1.0': { defaultVersion: true, marName: 'probe.mar', minWorkers: 1, maxWorkers: 5, batchSize: 1, maxBatchDelay: 5000, responseTimeout: 120 } } } };
    const file = await configFile([
      `inference_address=${shared}`,
      `management_address=${shared}`,
      'metrics_address=http://127.0.0.1:0',
      // KServe's config says 7070; the OS picks here, so parallel servers never clash.
      'grpc_inference_port=0',
      'grpc_management_port=0',
      'enable_envvars_config=true',
      'install_py_dep_per_model=true',
      'enable_metrics_api=true',
      'metrics_format=prometheus',
      'NUM_WORKERS=1',
      'number_of_netty_threads=4',
      'job_queue_size=10',
      `model_store=${store}`,
      `model_snapshot=${JSON.stringify(snapshot)}`,
    ]);
    const f = await cliFolder(stateDir);
    folders.push(f);
    const started = await f.run('start', '--ts-config', file);
    expect(started.code).toBe(0);
    for (const key of ['install_py_dep_per_model', 'enable_metrics_api', 'number_of_netty_threads']) expect(started.stderr).toContain(`${key} has no effect here`);
    expect(bannerAddress(started.stdout, 'inference')).toBe(shared);
    expect(bannerAddress(started.stdout, 'management')).toBe(shared);
    const keys = JSON.parse(await readFile(join(f.dir, 'key_file.json'), 'utf8')) as Record<string, { key: string }>;
    const inference = { authorization: `Bearer ${keys['inference']!.key}` };
    const management = { authorization: `Bearer ${keys['management']!.key}` };

    expect((await postJson(`${shared}/predictions/probe`, { op: 'echo', value: 2 }, inference)).json).toMatchObject({ value: 2 });
    const listed = await mgmt(shared, 'GET', '/models', { headers: management });
    expect(listed.json).toEqual({ models: [{ modelName: 'probe', modelUrl: 'probe.mar' }] });
    const described = await mgmt(shared, 'GET', '/models/probe', { headers: management });
    expect(described.json[0]).toMatchObject({ maxWorkers: 5, jobQueueStatus: { remainingCapacity: 10 } });
    // Each route set keeps its own key.
    expect((await mgmt(shared, 'GET', '/models', { headers: inference })).status).toBe(401);
    expect((await postJson(`${shared}/predictions/probe`, { op: 'echo' }, management)).status).toBe(401);
    expect((await fetch(`${shared}/ping`)).status).toBe(200);
    expect((await fetch(`${shared}/v2/health/ready`)).status).toBe(200);
    // metrics_format is TorchServe's older name of metrics_mode.
    const metrics = await (await fetch(`${bannerAddress(started.stdout, 'metrics')}/metrics`)).text();
    expect(metrics).toContain('ts_inference_requests_total');
  });
});

describe('all three addresses on one port', () => {
  it('adds /metrics (no key) to the shared listener', async () => {
    const port = await freePort();
    const shared = `http://127.0.0.1:${port}`;
    const server = await startServer({ store, models: ['probe.mar'], config: { inference_address: shared, management_address: shared, metrics_address: shared, disable_token_authorization: false, token_key_file: join(await tempDir('ms-keys-'), 'key_file.json') } });
    try {
      expect(server.url).toBe(shared);
      expect(server.metrics).toBe(shared);
      const metrics = await fetch(`${shared}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE');
      // Inference paths still need the inference key; management paths the management key.
      expect((await postJson(`${shared}/predictions/probe`, { op: 'echo' })).status).toBe(401);
      expect((await mgmt(shared, 'GET', '/models')).status).toBe(401);
      const keys = JSON.parse(await readFile(server.gateway.tokens!.keyFile, 'utf8')) as Record<string, { key: string }>;
      expect((await mgmt(shared, 'GET', '/models', { headers: { authorization: `Bearer ${keys['management']!.key}` } })).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe('the models={...} block', () => {
  it('sets per-model and per-version settings below model-config.yaml, and the default version', async () => {
    const models = {
      plain: { '1.0': { minWorkers: 2, maxWorkers: 3, batchSize: 4, maxBatchDelay: 50, responseTimeout: 7, startupTimeout: 9 } },
      yamlwins: { '1.0': { batchSize: 4, maxBatchDelay: 60 } },
      ver: { '1.0': { batchSize: 3 }, '2.0': { defaultVersion: true, batchSize: 5 } },
    };
    const server = await startServer({ store, models: ['plain.mar', 'yamlwins.mar', 'ver=ver.mar', 'ver=ver_two.mar'], config: { models: JSON.stringify(models) } });
    try {
      const plain = (await mgmt(server.management, 'GET', '/models/plain')).json[0];
      expect(plain).toMatchObject({ minWorkers: 2, maxWorkers: 3, batchSize: 4, maxBatchDelay: 50, responseTimeout: 7, startupTimeout: 9 });
      expect(plain.workers).toHaveLength(2);
      // A model whose yaml holds nothing unusual has no warnings to show.
      expect(plain).not.toHaveProperty('configWarnings');
      // The archive's own model-config.yaml wins over the block (TorchServe's precedence); the rest still applies.
      expect((await mgmt(server.management, 'GET', '/models/yamlwins')).json[0]).toMatchObject({ batchSize: 2, maxBatchDelay: 60 });
      const versions = (await mgmt(server.management, 'GET', '/models/ver/all')).json as { modelVersion: string; batchSize: number }[];
      expect(versions.map((v) => [v.modelVersion, v.batchSize]).sort()).toEqual([['1.0', 3], ['2.0', 5]]);
      expect((await mgmt(server.management, 'GET', '/models/ver')).json[0].modelVersion).toBe('2.0');
    } finally {
      await server.stop();
    }
  });

  it('loads the entries with a marName when no models are listed', async () => {
    const server = await startServer({ store, models: [], config: { models: JSON.stringify({ plain: { '1.0': { marName: 'plain.mar', minWorkers: 1 } } }) } });
    try {
      expect(server.gateway.registry.names()).toEqual(['plain']);
      expect((await postJson(`${server.url}/predictions/plain`, { op: 'echo', value: 'x' })).json).toMatchObject({ value: 'x' });
    } finally {
      await server.stop();
    }
  });

  it('refuses a misspelt field with the field it probably meant', async () => {
    const r = await load(['models={"m":{"1.0":{"batchsize":4}}}']);
    expect(r.error?.message).toContain('models.m.1.0: unknown field "batchsize" (did you mean "batchSize"?)');
    expect((await load(['models={"m":'])).error?.message).toContain('models is not JSON');
  });
});

describe('model-config.yaml keys this server does not act on', () => {
  it('warns once at load about TorchServe-only keys and with "did you mean" about unknown ones, and describe shows what is in effect', async () => {
    const server = await startServerProcess({ store, models: ['odd.mar'], env: { LOG_LEVEL: 'warn' } });
    try {
      const warnings = server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string; model?: string })
        .filter((l) => l.level === 40 && l.model === 'odd');
      expect(warnings.map((w) => w.msg)).toEqual([
        'odd.mar/model-config.yaml: TorchServe settings not acted on by this server: deviceType: "gpu" (models run on the CPU); parallelType: "pp" (no pipeline or tensor parallel workers); continuousBatching: true (batches are formed per request (dynamic batching))',
        'odd.mar/model-config.yaml: unknown key "batchsize" (did you mean "batchSize"?): not a setting of this server (the handler still sees it in context.modelConfig; handler settings belong under handler:)',
      ]);
      const described = (await mgmt(server.management, 'GET', '/models/odd')).json[0];
      expect(described).toMatchObject({ batchSize: 1, deviceType: 'cpu', parallelType: '', continuousBatching: false });
      expect(described.configWarnings).toHaveLength(2);
      expect(described.configWarnings[1]).toContain('"batchsize" (did you mean "batchSize"?)');
    } finally {
      await server.stop();
    }
  });
});
