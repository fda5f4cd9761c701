import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, createLogger, loadServerConfig } from '@model-server/gateway';
import { startCli } from './helpers/cli-server.js';
import { mgmt } from './helpers/management.js';
import { buildModel, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';
import { buildWorkflow, handMadeWorkflow } from './helpers/workflows.js';

let server: TestServer;
let store: string;
let wfStore: string;

beforeAll(async () => {
  store = await tempDir('ms-models-');
  wfStore = await tempDir('ms-workflows-');
  await buildModel(store, { name: 'probe' });
  await buildModel(store, { name: 'broken', handler: join(import.meta.dirname, 'fixtures', 'broken', 'handler.ts') });
  server = await startServer({ store, models: [], config: { enable_model_api: true, workflow_store: wfStore } });
});
afterAll(() => server?.stop());

/** Builds and registers a workflow; returns the registration's answer. */
async function register(name: string, spec: string, extraFiles?: string[]) {
  const file = await buildWorkflow(wfStore, { name, spec, ...(extraFiles ? { extraFiles } : {}) });
  return mgmt(server.management, 'POST', `/workflows?url=${file}&workflow_name=${name}`);
}

async function unregister(name: string): Promise<void> {
  expect((await mgmt(server.management, 'DELETE', `/workflows/${name}`)).status).toBe(200);
}

function predict(name: string, body: RequestInit['body'], headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.url}/wfpredict/${name}`, { method: 'POST', body, headers, ...(signal ? { signal } : {}) });
}

const json = { 'content-type': 'application/json' };

/** fan -> [left (probe model), shout]; left -> merge; shout -> [merge, tail]: two parents (merge), two leaves (merge, tail). */
const PIPELINE = `
models:
  max-batch-delay: 0
  left:
    url: probe.mar
    batch-size: 4
dag:
  fan: [left, shout]
  left: [merge]
  shout: [merge, tail]
`;

describe('workflow management API', () => {
  it('registers a workflow from the store, lists it, describes it, and serves every node as a model', async () => {
    // This archive carries its model: the spec's url names a file of the .war.
    const reg = await register('pipeline', PIPELINE, [join(store, 'probe.mar')]);
    expect(reg.status, reg.text).toBe(200);
    expect(reg.json).toEqual({ status: 'Workflow pipeline has been registered and scaled successfully.' });

    const list = await mgmt(server.management, 'GET', '/workflows');
    expect(list.json).toEqual({ workflows: [{ workflowName: 'pipeline', workflowUrl: 'pipeline.war' }] });

    const described = await mgmt(server.management, 'GET', '/workflows/pipeline');
    expect(described.status).toBe(200);
    expect(described.json).toMatchObject([
      {
        workflowName: 'pipeline',
        workflowUrl: 'pipeline.war',
        minWorkers: 1,
        maxWorkers: 1,
        batchSize: 1,
        maxBatchDelay: 0,
        retryAttempts: 1,
        timeoutMs: 10000,
        workflowDag: { fan: ['left', 'shout'], left: ['merge'], shout: ['merge', 'tail'], merge: [], tail: [] },
        startNode: 'fan',
        leaves: ['merge', 'tail'],
      },
    ]);
    const nodes = described.json[0].nodes as { name: string; type: string; modelName: string; batchSize: number; liveWorkers: number }[];
    expect(nodes.map((n) => [n.name, n.type, n.modelName])).toEqual([
      ['fan', 'function', 'pipeline__fan'],
      ['left', 'model', 'pipeline__left'],
      ['shout', 'function', 'pipeline__shout'],
      ['merge', 'function', 'pipeline__merge'],
      ['tail', 'function', 'pipeline__tail'],
    ]);
    expect(nodes.find((n) => n.name === 'left')).toMatchObject({ batchSize: 4, liveWorkers: 1 });

    const models = (await mgmt(server.management, 'GET', '/models')).json.models.map((m: { modelName: string }) => m.modelName);
    expect(models).toEqual(['pipeline__fan', 'pipeline__left', 'pipeline__merge', 'pipeline__shout', 'pipeline__tail']);
    // A node model is a model like any other: its own describe, its own predictions.
    expect((await mgmt(server.management, 'GET', '/models/pipeline__left')).json[0]).toMatchObject({ modelName: 'pipeline__left', batchSize: 4 });
    const direct = await fetch(`${server.url}/predictions/pipeline__shout`, { method: 'POST', headers: json, body: '{"value":"direct"}' });
    expect(await direct.text()).toBe('DIRECT');
  });

  it('answers a DAG with two parents and two leaves as one JSON object keyed by leaf', async () => {
    const res = await predict('pipeline', 'hello');
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    // merge got one input per parent, named by the parent; tail (one parent) got shout's output as body.
    expect(await res.json()).toEqual({ merge: { names: ['left', 'shout'], left: 'hello', shout: 'HELLO' }, tail: 'HELLO!' });
  });

  it('takes a multipart body as /predictions does: the start node gets the form parts by name', async () => {
    const form = new FormData();
    form.append('data', new Blob(['form text'], { type: 'text/plain' }), 'a.txt');
    const res = await predict('pipeline', form);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { tail: string }).tail).toBe('FORM TEXT!');
  });

  it('refuses to unregister a node model alone, then unregisters the workflow with its node models', async () => {
    const alone = await mgmt(server.management, 'DELETE', '/models/pipeline__left');
    expect(alone.status).toBe(403);
    expect(alone.json.message).toBe('Model pipeline__left serves a node of workflow pipeline; unregister the workflow instead (DELETE /workflows/pipeline)');
    await unregister('pipeline');
    expect((await mgmt(server.management, 'GET', '/workflows/pipeline')).json).toMatchObject({ code: 404, errorCode: 'WORKFLOW_NOT_FOUND', message: 'Workflow not found: pipeline' });
    expect((await mgmt(server.management, 'GET', '/workflows')).json).toEqual({ workflows: [] });
    expect((await mgmt(server.management, 'GET', '/models')).json.models).toEqual([]);
    const res = await predict('pipeline', 'x');
    expect(res.status).toBe(404);
    expect((await mgmt(server.management, 'DELETE', '/workflows/pipeline')).status).toBe(404);
  });

  it('refuses a second workflow of the same name with 409, and the first keeps serving', async () => {
    const spec = 'dag:\n  fan: [shout]\n';
    expect((await register('twice', spec)).status).toBe(200);
    const again = await register('twice', spec);
    expect(again.status).toBe(409);
    expect(again.json.message).toBe('Workflow twice is already registered');
    const res = await predict('twice', 'one leaf');
    // One leaf: its bytes and content type as the node answered them.
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('ONE LEAF');
    await unregister('twice');
  });

  it('undoes a registration whose node cannot start: none of its models stays', async () => {
    const res = await register('unlucky', 'models:\n  bad:\n    url: broken.mar\ndag:\n  fan: [bad]\n');
    expect(res.status).toBe(500);
    expect(res.json.errorCode).toBe('WORKERS_START_FAILED');
    expect(res.json.message).toMatch(/unlucky__bad.*broken on purpose/);
    expect((await mgmt(server.management, 'GET', '/models')).json.models).toEqual([]);
    expect((await mgmt(server.management, 'GET', '/workflows')).json.workflows).toEqual([]);
  });

  it('refuses a workflow URL outside the workflow store, and an unknown archive, with 404', async () => {
    const outside = await mgmt(server.management, 'POST', '/workflows?url=../x.war');
    expect(outside.status).toBe(404);
    const missing = await mgmt(server.management, 'POST', '/workflows?url=nothing.war');
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe('Workflow not found: nothing.war (no such archive in the workflow store)');
    expect((await mgmt(server.management, 'POST', '/workflows')).status).toBe(400);
  });
});

describe('workflow graphs refused at registration with 400', () => {
  const cases: [string, string, string[] | undefined, string][] = [
    ['cycle', 'models:\n  a: {url: probe.mar}\n  b: {url: probe.mar}\n  c: {url: probe.mar}\ndag:\n  a: [b]\n  b: [c]\n  c: [b]\n', undefined, 'the graph has a cycle: b -> c -> b'],
    ['starts', 'models:\n  a: {url: probe.mar}\n  b: {url: probe.mar}\n  c: {url: probe.mar}\ndag:\n  a: [c]\n  b: [c]\n', undefined, 'several start nodes (a, b): a workflow has exactly one node without parents'],
    ['selfloop', 'models:\n  a: {url: probe.mar}\ndag:\n  a: [a]\n', undefined, 'node a lists itself as a child (a self loop)'],
    ['unknown', 'models:\n  a: {url: probe.mar}\ndag:\n  a: [ghost]\n', undefined, 'node ghost is not a model of models: and the workflow has no handler module for function nodes'],
    ['missingfn', 'dag:\n  pre: [post]\n', ['pre'], 'node post is not a model of models: nor a function of handler.js (it exports pre)'],
    ['unused', 'models:\n  a: {url: probe.mar}\n  spare: {url: probe.mar}\ndag:\n  a: []\n', undefined, 'model node spare is in models: but not in the dag'],
  ];
  it.each(cases)('%s', async (name, spec, exports, reason) => {
    const file = await handMadeWorkflow(wfStore, name, spec, exports);
    const res = await mgmt(server.management, 'POST', `/workflows?url=${file}`);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ code: 400, type: 'InvalidDAGException', errorCode: 'WORKFLOW_DAG_INVALID', message: `Invalid workflow DAG in ${join(wfStore, file)}: ${reason}` });
    expect((await mgmt(server.management, 'GET', '/models')).json.models).toEqual([]);
  });

  it('fails a function the handler does not export when its worker loads, if the manifest does not list the exports', async () => {
    const file = await handMadeWorkflow(wfStore, 'unlisted', 'dag:\n  pre: [ghost]\n', ['pre'], { listExports: false });
    const res = await mgmt(server.management, 'POST', `/workflows?url=${file}`);
    expect(res.status).toBe(500);
    expect(res.json.message).toMatch(/Failed to start workers for model unlisted__ghost .*No handler exported from handler\.js:ghost/);
    expect((await mgmt(server.management, 'GET', '/models')).json.models).toEqual([]);
  });

  it('refuses a property of the wrong type, naming its key', async () => {
    const file = await handMadeWorkflow(wfStore, 'props', 'models:\n  batch-size: 0\n  a: {url: probe.mar}\ndag:\n  a: []\n');
    const res = await mgmt(server.management, 'POST', `/workflows?url=${file}`);
    expect(res.status).toBe(400);
    expect(res.json.message).toBe(`Invalid workflow archive ${join(wfStore, file)}: models.batch-size must be an integer >= 1 (got 0)`);
  });
});

describe('workflow inference', () => {
  it('answers 404 for an unknown workflow and 405 for a GET', async () => {
    const res = await predict('nope', 'x');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toBe('Workflow not found: nope');
    expect((await fetch(`${server.url}/wfpredict/nope`)).status).toBe(405);
  });

  it('fails the request when a node fails, naming the node and its message, after its retries', async () => {
    expect((await register('failing', 'models:\n  retry-attempts: 1\ndag:\n  fan: [broken]\n')).status).toBe(200);
    const res = await predict('failing', 'x');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      code: 500,
      type: 'WorkflowException',
      errorCode: 'WORKFLOW_NODE_FAILED',
      message: 'Workflow failing: node broken failed after 2 attempt(s): broken on purpose',
    });
    await unregister('failing');
  });

  it("answers a node's refusal of its input with the node's status, without retrying it", async () => {
    expect((await register('refusing', 'models:\n  retry-attempts: 3\ndag:\n  fan: [picky]\n')).status).toBe(200);
    const res = await predict('refusing', 'x');
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toBe('Workflow refusing: node picky failed after 1 attempt(s): picky refuses this input');
    await unregister('refusing');
  });

  it('retries a node that fails, and answers when a retry succeeds', async () => {
    expect((await register('retrying', 'models:\n  retry-attempts: 1\ndag:\n  flaky: []\n')).status).toBe(200);
    const res = await predict('retrying', 'second time lucky');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ attempts: 2, body: 'second time lucky' });
    await unregister('retrying');
  });

  it('times a node out after timeout-ms, each of its retries too, and cancels each attempt in the worker', async () => {
    const spec = 'models:\n  hang:\n    url: probe.mar\n    timeout-ms: 300\n    retry-attempts: 2\ndag:\n  hang: []\n';
    expect((await register('slow', spec)).status).toBe(200);
    const started = performance.now();
    const res = await predict('slow', '{"op":"hang"}', { ...json, 'x-tag': 'slow-1' });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ errorCode: 'WORKFLOW_NODE_TIMEOUT', message: 'Workflow slow: node hang timed out after 300 ms, 3 attempt(s)' });
    expect(elapsed).toBeGreaterThanOrEqual(900);
    const seen = (await (await fetch(`${server.url}/predictions/slow__hang`, { method: 'POST', headers: json, body: '{"op":"cancelled"}' })).json()) as { cancelled: string[] };
    expect(seen.cancelled.filter((t) => t === 'slow-1')).toHaveLength(3);
    await unregister('slow');
  });

  it('cancels the running node and starts no further one when the client disconnects', async () => {
    const spec = 'models:\n  first: {url: probe.mar}\n  second: {url: probe.mar}\ndag:\n  first: [second]\n';
    expect((await register('leaving', spec)).status).toBe(200);
    const first = server.gateway.registry.resolve('leaving__first');
    const client = new AbortController();
    const pending = predict('leaving', '{"op":"hang"}', { ...json, 'x-tag': 'gone-1' }, client.signal).catch((err: unknown) => err);
    await waitFor(() => first.inFlightCount === 1, 10_000, 'the first node to run');
    client.abort();
    expect(await pending).toBeInstanceOf(Error);
    // The hang handler returns once its abort signal fires; then the worker is idle again.
    await waitFor(() => first.inFlightCount === 0, 10_000, 'the first node to be cancelled');
    const ask = async (model: string) =>
      (await (await fetch(`${server.url}/predictions/${model}`, { method: 'POST', headers: json, body: '{"op":"cancelled"}' })).json()) as { cancelled: string[]; handled: number };
    expect((await ask('leaving__first')).cancelled).toEqual(['gone-1']);
    // The second node never ran: the only request it handled is this question.
    expect((await ask('leaving__second')).handled).toBe(1);
    await unregister('leaving');
  });

  it('batches concurrent workflow requests at every node', async () => {
    const spec = 'models:\n  batch-size: 8\n  max-batch-delay: 500\n  probe: {url: probe.mar}\ndag:\n  probe: [count]\n';
    expect((await register('batching', spec)).status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 6 }, async () => (await predict('batching', '{}', json)).json() as Promise<{ batches: number[] }>));
    // count lists the batches it has run; the last answered saw them all.
    const sizes = answers.map((a) => a.batches).sort((a, b) => b.length - a.length)[0]!;
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(6);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    const probeStats = (await (await fetch(`${server.url}/v2/models/batching__probe/stats`)).json()) as { model_stats: { batch_stats: { batch_size: number }[] }[] };
    expect(Math.max(...probeStats.model_stats[0]!.batch_stats.map((b) => b.batch_size))).toBeGreaterThan(1);
    await unregister('batching');
  });
});

/** A gateway of its own (not the shared one), with start-up models and workflows. */
async function startGateway(options: { models: string[]; workflows: string[]; snapshotDir?: string }): Promise<Gateway> {
  const config = loadServerConfig({
    overrides: {
      inference_address: 'http://127.0.0.1:0',
      management_address: 'http://127.0.0.1:0',
      metrics_address: 'http://127.0.0.1:0',
      model_store: store,
      workflow_store: wfStore,
      disable_token_authorization: true,
    },
  });
  return Gateway.start({ config, ...options, logDir: await tempDir('ms-logs-'), logger: createLogger('silent') });
}

describe('workflows at start and at shutdown', () => {
  it('loads --workflows from the workflow store; registration stays off without enable_model_api; snapshots leave workflows out', async () => {
    const file = await buildWorkflow(wfStore, { name: 'started', spec: 'models:\n  node: {url: probe.mar}\ndag:\n  fan: [node]\n' });
    const snapshotDir = await tempDir('ms-snapshots-');
    const other = await startGateway({ models: ['probe.mar'], workflows: [`boot=${file}`], snapshotDir });
    try {
      const { inference, management } = other.addresses;
      const res = await fetch(`${inference}/wfpredict/boot`, { method: 'POST', body: 'at start' });
      expect(((await res.json()) as { value: string }).value).toBe('at start');
      const post = await mgmt(management, 'POST', `/workflows?url=${file}`);
      expect(post.status).toBe(405);
      expect(post.json.errorCode).toBe('WORKFLOW_API_DISABLED');
      expect((await mgmt(management, 'DELETE', '/workflows/boot')).status).toBe(405);
      expect((await mgmt(management, 'GET', '/workflows')).json.workflows).toEqual([{ workflowName: 'boot', workflowUrl: file }]);
      expect((await mgmt(management, 'GET', '/models')).json.models.map((m: { modelName: string }) => m.modelName)).toEqual(['boot__fan', 'boot__node', 'probe']);
    } finally {
      await other.stop();
    }
    // Restored alone, a node model would point at the workflow's unpacked files: snapshots hold models only.
    const written = await readdir(snapshotDir);
    expect(written.length).toBeGreaterThanOrEqual(2);
    for (const name of written) {
      const snapshot = JSON.parse(/^model_snapshot=(.*)$/m.exec(await readFile(join(snapshotDir, name), 'utf8'))![1]!) as { models: Record<string, unknown> };
      expect(Object.keys(snapshot.models)).toEqual(['probe']);
    }
  });

  it('lets a workflow request between two nodes finish when the server shuts down, and refuses new ones with 503', async () => {
    const file = await buildWorkflow(wfStore, { name: 'draining', spec: 'models:\n  first: {url: probe.mar}\n  second: {url: probe.mar}\ndag:\n  first: [second]\n' });
    const other = await startGateway({ models: [], workflows: [file] });
    const url = `${other.addresses.inference}/wfpredict/draining`;
    const first = other.registry.resolve('draining__first');
    const running = fetch(url, { method: 'POST', headers: json, body: '{"op":"sleep","ms":400}' });
    await waitFor(() => first.inFlightCount === 1, 10_000, 'the first node to run');
    const stopping = other.shutdown(10_000);
    const late = await fetch(url, { method: 'POST', headers: json, body: '{}' }).catch((err: unknown) => err);
    const res = await running;
    // The second node was still served: the answer is its output, of the first node's output.
    expect(res.status).toBe(200);
    expect(((await res.json()) as { op: string }).op).toBe('sleep');
    // A new request either finds the port closed or is refused as the server drains.
    if (late instanceof Response) expect(late.status).toBe(503);
    await stopping;
  });

  it('model-server start takes --workflow-store and --workflows', async () => {
    const file = await buildWorkflow(wfStore, { name: 'cli', spec: 'dag:\n  fan: [shout]\n' });
    const dir = await tempDir('ms-cli-');
    const config = join(dir, 'config.properties');
    await writeFile(config, 'inference_address=http://127.0.0.1:0\nmanagement_address=http://127.0.0.1:0\nmetrics_address=http://127.0.0.1:0\ngrpc_inference_port=0\ngrpc_management_port=0\n');
    const args = ['start', '--foreground', '--ncs', '--ts-config', config, '--model-store', store, '--workflow-store', wfStore, '--workflows', `shouting=${file}`, '--disable-token-auth'];
    const cli = await startCli(args, { MODEL_SERVER_STATE_DIR: dir, LOG_LOCATION: dir });
    try {
      const res = await fetch(`${cli.inference}/wfpredict/shouting`, { method: 'POST', body: 'from the cli' });
      expect(await res.text()).toBe('FROM THE CLI');
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });
});
