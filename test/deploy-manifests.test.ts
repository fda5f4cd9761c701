import { readFileSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig, parseAddress, serverConfigSchema, type ServerConfig } from '@model-server/gateway';
import { ClosedSchemas, KINDS, kindKey, schemaErrors } from './helpers/k8s-schemas.js';
import { isKServeKind, kserveErrors, MODEL_FIELDS } from './helpers/kserve-schemas.js';
import { adapterQuery, KSERVE_DIR, kserveManifests, KUBERNETES_DIR, KUSTOMIZATIONS, only, parseAdapterRules, renderKustomization, type Manifest } from './helpers/manifests.js';
import { buildModel, tempDir } from './helpers/models.js';
import { parseSamples, prometheusTool } from './helpers/prom-text.js';
import { startCli } from './helpers/cli-server.js';

// Shapes of the parts of the manifests the step-with-the-code checks read.
interface Port {
  name?: string;
  containerPort?: number;
  port?: number;
  targetPort?: number | string;
}
interface Probe {
  httpGet: { path: string; port: number | string };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  args?: string[];
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  env?: EnvVar[];
  ports?: Port[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}

const rendered = new Map<string, Manifest[]>();
let kserve: Map<string, Manifest[]>;
let closed: ClosedSchemas;
const defaults = loadServerConfig({ env: {} });
/** TorchServe's gRPC ports (shared/reference/torchserve.md §0), used until the server's config has keys of its own. */
const TORCHSERVE_GRPC_PORTS = { grpc_inference_port: 7070, grpc_management_port: 7071 } as const;

beforeAll(async () => {
  for (const dir of KUSTOMIZATIONS) rendered.set(dir, await renderKustomization(dir));
  kserve = await kserveManifests();
  closed = new ClosedSchemas();
});

const podSpec = (m: Manifest) => (m.spec as { template: { spec: PodSpec } }).template.spec;
const container = (m: Manifest) => podSpec(m).containers.find((c) => c.name === 'model-server')!;
const runtimeContainer = () => (only(kserve.get('cluster-serving-runtime.yaml')!, 'ClusterServingRuntime').spec as { containers: Container[] }).containers[0]!;
const portOf = (c: Container, nameOrNumber: number | string) =>
  typeof nameOrNumber === 'number' ? nameOrNumber : c.ports?.find((p) => p.name === nameOrNumber)?.containerPort;

/** Every error of one object: the model class's validate(), then the closed walk; KServe kinds by their own schema. */
async function errorsOf(m: Manifest): Promise<string[]> {
  if (isKServeKind(m)) {
    const errors = kserveErrors(m.kind, m);
    const spec = m.spec as { containers?: unknown[]; volumes?: unknown[]; predictor?: { model?: Record<string, unknown> } };
    const embedded: [string, unknown][] = [
      ...(spec.containers ?? []).map((c): [string, unknown] => ['v1/Container', c]),
      ...(spec.volumes ?? []).map((v): [string, unknown] => ['v1/Volume', v]),
    ];
    // The model spec is a core/v1 Container (its name fixed by KServe) plus KServe's own fields.
    const model = spec.predictor?.model;
    if (model) embedded.push(['v1/Container', { name: 'kserve-container', ...Object.fromEntries(Object.entries(model).filter(([k]) => !(MODEL_FIELDS as readonly string[]).includes(k))) }]);
    for (const [key, part] of embedded) {
      const message = await schemaErrors(key, part);
      errors.push(...(message ? [message] : []), ...closed.unknownFields(key, part));
    }
    return errors;
  }
  const key = kindKey(m);
  const message = await schemaErrors(key, m);
  return [...(message ? [message] : []), ...closed.unknownFields(key, m)];
}

/** A copy of `m` with the field at `path` renamed as a typo would (one letter dropped). */
function misspell(m: Manifest, path: readonly (string | number)[]): { copy: Manifest; wrong: string } {
  const copy = structuredClone(m);
  let parent = copy as unknown as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const key = String(path.at(-1));
  const wrong = key.slice(0, -2) + key.slice(-1);
  parent[wrong] = parent[key];
  delete parent[key];
  return { copy, wrong };
}

describe('Kubernetes manifests', () => {
  it.each(KUSTOMIZATIONS)('%s renders with kustomize, and every object passes the closed API schema of its kind', async (dir) => {
    const objects = rendered.get(dir)!;
    expect(objects.length).toBeGreaterThan(0);
    for (const m of objects) expect(await errorsOf(m), `${dir}: ${m.kind} ${m.metadata.name}`).toEqual([]);
  });

  it('a misspelled field fails in every kind the manifests use, where validate() alone lets it through', async () => {
    const all = [...rendered.values()].flat();
    const kinds = [...new Set(all.map(kindKey))];
    expect(kinds.sort()).toEqual(Object.keys(KINDS).filter((k) => !['v1/Container', 'v1/Volume', 'monitoring.coreos.com/v1/PodMonitor'].includes(k)).sort());
    for (const key of kinds) {
      const m = all.find((o) => kindKey(o) === key)!;
      // The first field of spec, or of the object itself for kinds without one.
      const top = m.spec ? ['spec', Object.keys(m.spec)[0]!] : [Object.keys(m).find((k) => !['apiVersion', 'kind', 'metadata'].includes(k)) ?? 'metadata'];
      const path = top[0] === 'metadata' ? ['metadata', 'labels'] : top;
      const { copy, wrong } = misspell(m, path);
      expect(closed.unknownFields(key, copy), key).toEqual([expect.stringMatching(new RegExp(`^/${path.slice(0, -1).map((p) => `${p}/`).join('')}${wrong}: unknown field`))]);
    }
    // Deep in the pod template, and in each custom resource: the schema packages' own validate() passes these.
    const prod = rendered.get('overlays/prod')!;
    const keda = rendered.get('overlays/prod-keda')!;
    const deep: [Manifest, (string | number)[]][] = [
      [only(prod, 'Deployment'), ['spec', 'template', 'spec', 'containers', 0, 'readinessProbe']],
      [only(prod, 'HorizontalPodAutoscaler'), ['spec', 'metrics', 0, 'pods', 'target', 'averageValue']],
      [only(keda, 'ScaledObject'), ['spec', 'triggers', 0, 'metricType']],
      [only(prod, 'ServiceMonitor'), ['spec', 'endpoints', 0, 'interval']],
    ];
    for (const [m, path] of deep) {
      const { copy, wrong } = misspell(m, path);
      expect(await schemaErrors(kindKey(m), copy), `${m.kind} ${wrong}`).toBeUndefined();
      expect((await errorsOf(copy)).join('\n'), m.kind).toContain(`${wrong}: unknown field`);
    }
    // And the messages say what was meant.
    expect(closed.unknownFields('apps/v1/Deployment', misspell(only(prod, 'Deployment'), ['spec', 'revisionHistoryLimit']).copy)).toEqual([
      '/spec/revisionHistoryLimt: unknown field (did you mean revisionHistoryLimit?)',
    ]);
  });

  it('overlays: dev is one pod on the demo image, prod and prod-keda scale by requests in flight with one autoscaler each', () => {
    const dev = rendered.get('overlays/dev')!;
    const prod = rendered.get('overlays/prod')!;
    const keda = rendered.get('overlays/prod-keda')!;
    expect(container(only(dev, 'Deployment')).name).toBe('model-server');
    expect(podSpec(only(dev, 'Deployment')).containers.map((c) => (c as { image?: string }).image)).toEqual(['model-server:demo']);
    expect(dev.filter((m) => ['HorizontalPodAutoscaler', 'ScaledObject', 'PersistentVolumeClaim'].includes(m.kind))).toEqual([]);
    expect(prod.filter((m) => m.kind === 'ScaledObject')).toEqual([]);
    expect(keda.filter((m) => m.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    for (const objects of [dev, prod, keda]) {
      const namespace = only(objects, 'Namespace').metadata.name;
      for (const m of objects.filter((o) => o.kind !== 'Namespace')) expect(m.metadata.namespace, `${m.kind} ${m.metadata.name}`).toBe(namespace);
      // No replicas: an autoscaler owns the count, and an apply must not reset it.
      expect(only(objects, 'Deployment').spec).not.toHaveProperty('replicas');
    }
    // The KEDA query names the namespace itself (kustomize does not rewrite it).
    const trigger = (only(keda, 'ScaledObject').spec as { triggers: { metadata: { query: string; threshold: string } }[] }).triggers[0]!;
    expect(trigger.metadata.query).toContain(`namespace="${only(keda, 'Namespace').metadata.name}"`);
    // Both autoscalers aim at the same load per pod.
    const hpa = only(prod, 'HorizontalPodAutoscaler').spec as { metrics: { pods?: { target: { averageValue: string } } }[] };
    expect(trigger.metadata.threshold).toBe(hpa.metrics.find((x) => x.pods)!.pods!.target.averageValue);
  });
});

describe('KServe manifests', () => {
  it('every object passes the closed KServe schema, and its containers and volumes the core ones', async () => {
    expect([...kserve.keys()]).toEqual(['cluster-serving-runtime.yaml', 'inferenceservice-mnist.yaml', 'inferenceservice-ocr.yaml', 'inferenceservice-onnx.yaml', 'podmonitor.yaml']);
    for (const [file, objects] of kserve) for (const m of objects) expect(await errorsOf(m), `${file}: ${m.kind} ${m.metadata.name}`).toEqual([]);
  });

  it('a misspelled field fails in the runtime, its container, and an InferenceService', async () => {
    const runtime = only(kserve.get('cluster-serving-runtime.yaml')!, 'ClusterServingRuntime');
    const mnist = only(kserve.get('inferenceservice-mnist.yaml')!, 'InferenceService');
    const cases: [Manifest, (string | number)[]][] = [
      [runtime, ['spec', 'supportedModelFormats']],
      [runtime, ['spec', 'supportedModelFormats', 0, 'autoSelect']],
      [runtime, ['spec', 'containers', 0, 'readinessProbe']],
      [mnist, ['spec', 'predictor', 'model', 'storageUri']],
      [mnist, ['spec', 'predictor', 'autoScaling', 'metrics', 0, 'external', 'metric', 'serverAddress']],
    ];
    for (const [m, path] of cases) {
      const { copy, wrong } = misspell(m, path);
      expect((await errorsOf(copy)).join('\n'), wrong).toMatch(new RegExp(`\\(${wrong}\\)|/${wrong}: unknown field`));
    }
    expect(kserveErrors('ClusterServingRuntime', { ...runtime, spec: { ...runtime.spec, protocolVersions: ['v3'] } })).toContain('/spec/protocolVersions/0 must be equal to one of the allowed values');
  });

  it("the runtime keeps KServe's contract: kserve-container on 8080 first, /mnt/models, the ISVC's name, known placeholders", () => {
    const runtime = only(kserve.get('cluster-serving-runtime.yaml')!, 'ClusterServingRuntime');
    const spec = runtime.spec as { containers: Container[]; supportedModelFormats: { name: string; priority?: number; autoSelect?: boolean }[]; protocolVersions: string[] };
    expect(spec.containers.map((c) => c.name)).toEqual(['kserve-container']);
    const c = spec.containers[0]!;
    expect(c.ports?.[0]).toMatchObject({ name: 'http', containerPort: 8080 });
    expect(c.ports?.find((p) => /grpc|h2c/.test(p.name ?? ''))).toBeDefined();
    expect(c.args).toContain('--models={{.Name}}=/mnt/models');
    expect(c.env?.map((e) => e.name)).not.toContain('PYTHONPATH');
    // v1 is listed, or an InferenceService without protocolVersion never selects this runtime.
    expect(spec.protocolVersions).toEqual(['v1', 'v2', 'grpc-v2']);
    // Above Triton's onnx priority 1 and OpenVINO's 2: an equal priority makes KServe's webhook refuse the runtime.
    expect(spec.supportedModelFormats.find((f) => f.name === 'onnx')).toMatchObject({ autoSelect: true, priority: 3 });
    // Placeholders are rendered by Go's text/template from the ISVC's metadata; anything else fails the ISVC.
    const text = JSON.stringify(c);
    for (const m of text.matchAll(/\{\{(.*?)\}\}/g)) expect(m[1]).toMatch(/^\.(Name|Namespace|Labels\.\w+|Annotations\.\w+)$/);
    // Every InferenceService sets the deployment mode (clusters differ) and a format the runtime serves.
    for (const [file, objects] of kserve) {
      for (const isvc of objects.filter((m) => m.kind === 'InferenceService')) {
        expect(isvc.metadata.annotations?.['serving.kserve.io/deploymentMode'], file).toBe('Standard');
        const model = (isvc.spec as { predictor: { model: { modelFormat: { name: string }; runtime?: string } } }).predictor.model;
        expect(spec.supportedModelFormats.map((f) => f.name), file).toContain(model.modelFormat.name);
        if (model.runtime !== undefined) expect(model.runtime).toBe(runtime.metadata.name);
      }
    }
  });
});

describe('deployment files in step with the code', () => {
  const configFile = join(KUBERNETES_DIR, 'base', 'config.properties');
  let k8sConfig: ServerConfig;
  const warnings: string[] = [];

  beforeAll(() => {
    k8sConfig = loadServerConfig({ file: configFile, env: {}, warn: (w) => warnings.push(w) });
  });

  it('ports: the code defaults, config.properties, the containers, the Service and the probes agree', () => {
    expect(warnings).toEqual([]);
    for (const dir of ['overlays/dev', 'overlays/prod', 'overlays/prod-keda']) {
      const objects = rendered.get(dir)!;
      const deployment = only(objects, 'Deployment');
      const c = container(deployment);
      const configMap = only(objects, 'ConfigMap');
      // kustomize's generated ConfigMap carries the file as it is, and the pod mounts it where --ts-config reads.
      expect(configMap.data?.['config.properties']).toBeDefined();
      const mount = c.volumeMounts!.find((v) => podSpec(deployment).volumes!.find((vol) => vol.name === v.name)?.configMap?.name === configMap.metadata.name)!;
      expect(c.args?.[c.args.indexOf('--ts-config') + 1]).toBe(`${mount.mountPath}/config.properties`);
      expect(c.volumeMounts!.find((v) => v.name === 'model-store')?.mountPath).toBe(k8sConfig.model_store);

      const inference = parseAddress(k8sConfig.inference_address);
      const metrics = parseAddress(k8sConfig.metrics_address);
      expect(inference).toEqual({ host: '0.0.0.0', port: parseAddress(defaults.inference_address).port });
      expect(metrics).toEqual({ host: '0.0.0.0', port: parseAddress(defaults.metrics_address).port });
      expect(parseAddress(k8sConfig.management_address)).toEqual({ host: '127.0.0.1', port: parseAddress(defaults.management_address).port });
      expect(portOf(c, 'http')).toBe(inference.port);
      expect(portOf(c, 'metrics')).toBe(metrics.port);
      const grpc = (defaults as unknown as Record<string, number | undefined>)['grpc_inference_port'] ?? TORCHSERVE_GRPC_PORTS.grpc_inference_port;
      expect(portOf(c, 'grpc')).toBe(grpc);
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) expect(portOf(c, probe!.httpGet.port)).toBe(inference.port);

      const service = only(objects, 'Service').spec as { ports: Port[] };
      for (const p of service.ports) expect(portOf(c, p.targetPort!), `Service port ${p.name}`).toBe(p.port);
      const monitor = objects.find((m) => m.kind === 'ServiceMonitor');
      if (monitor) expect(service.ports.map((p) => p.name)).toContain((monitor.spec as { endpoints: { port: string }[] }).endpoints[0]!.port);
    }
  });

  it("environment: the variables the manifests set are the server's, and its config lets them through", () => {
    const known = Object.keys(serverConfigSchema.shape);
    const envKey = (name: string) => (name.startsWith('TS_') ? name.slice(3).toLowerCase() : undefined);
    const deployment = container(only(rendered.get('overlays/prod')!, 'Deployment'));
    expect(deployment.env?.map((e) => e.name)).toEqual(['TS_INFERENCE_KEY', 'TS_MANAGEMENT_KEY']);
    expect(k8sConfig.enable_envvars_config).toBe(true);
    const runtime = runtimeContainer();
    for (const e of [...deployment.env!, ...runtime.env!]) {
      const key = envKey(e.name);
      if (key === undefined) expect(['LOG_LOCATION'], e.name).toContain(e.name);
      else if (key !== 'enable_envvars_config') expect(known, e.name).toContain(key);
    }
    // What KServe's runtime becomes: listening where KServe expects, metrics where its annotation says.
    const env = Object.fromEntries(runtime.env!.map((e) => [e.name, e.value!]));
    const config = loadServerConfig({ env });
    expect(parseAddress(config.inference_address)).toEqual({ host: '0.0.0.0', port: runtime.ports![0]!.containerPort });
    const annotations = (only(kserve.get('cluster-serving-runtime.yaml')!, 'ClusterServingRuntime').spec as { annotations: Record<string, string> }).annotations;
    expect(parseAddress(config.metrics_address)).toEqual({ host: '0.0.0.0', port: Number(annotations['prometheus.kserve.io/port']) });
    expect(portOf(runtime, 'metrics')).toBe(parseAddress(config.metrics_address).port);
    expect(parseAddress(config.management_address).host).toBe('127.0.0.1');
    for (const probe of [runtime.startupProbe, runtime.livenessProbe, runtime.readinessProbe]) expect(probe!.httpGet.port).toBe(parseAddress(config.inference_address).port);
  });

  it('the kubelet waits for the whole drain: terminationGracePeriodSeconds >= preStop + shutdown_grace_period + the stop', () => {
    // After the drain the server stops in well under a second (test/replicas.test.ts measures it); the
    // rest of the margin is for a loaded node. Requests still running at SIGKILL would be lost.
    const STOP_MARGIN_S = 5;
    const preStopSeconds = (c: Container): number => {
      const command = c.lifecycle?.preStop?.exec?.command ?? [];
      expect(command.slice(0, 1), c.name).toEqual(['/bin/sleep']);
      return Number(command[1]);
    };
    for (const dir of ['overlays/dev', 'overlays/prod', 'overlays/prod-keda']) {
      const pod = podSpec(only(rendered.get(dir)!, 'Deployment'));
      const budget = preStopSeconds(container(only(rendered.get(dir)!, 'Deployment'))) + k8sConfig.shutdown_grace_period + STOP_MARGIN_S;
      expect(pod.terminationGracePeriodSeconds, dir).toBeGreaterThanOrEqual(budget);
    }
    // The server's drain is set in the file, not left to the default, so the three numbers are seen together.
    expect(readFileSync(configFile, 'utf8')).toMatch(/^shutdown_grace_period=\d+$/m);
    const runtime = runtimeContainer();
    const runtimeConfig = loadServerConfig({ env: Object.fromEntries(runtime.env!.map((e) => [e.name, e.value!])) });
    expect(runtime.env!.map((e) => e.name)).toContain('TS_SHUTDOWN_GRACE_PERIOD');
    const runtimeBudget = preStopSeconds(runtime) + runtimeConfig.shutdown_grace_period + STOP_MARGIN_S;
    for (const [file, objects] of kserve) {
      for (const isvc of objects.filter((m) => m.kind === 'InferenceService')) {
        const predictor = (isvc.spec as { predictor: { terminationGracePeriodSeconds?: number } }).predictor;
        // Kubernetes' default is 30 s: below the budget, so every InferenceService of this runtime sets it.
        expect(predictor.terminationGracePeriodSeconds, `${file} ${isvc.metadata.name}`).toBeGreaterThanOrEqual(runtimeBudget);
      }
    }
  });

  describe('with the real CLI', () => {
    let store: string;
    let mnt: string;
    let stateDir: string;

    beforeAll(async () => {
      stateDir = await tempDir('ms-deploy-state-');
      store = await tempDir('ms-deploy-store-');
      await buildModel(store, { name: 'probe' });
      // What KServe's storage initializer does with a single .tar.gz: unpack it into /mnt/models.
      const staging = await tempDir('ms-deploy-tgz-');
      const tgz = await buildModel(staging, { name: 'probe', format: 'tgz' });
      mnt = await tempDir('ms-deploy-mnt-');
      await execa('tar', ['-xzf', join(staging, tgz), '-C', mnt]);
    });
    afterAll(async () => {
      await rm(stateDir, { recursive: true, force: true });
    });

    /** config.properties as the ConfigMap has it, with OS-chosen loopback ports and a test model store. */
    async function localConfig(): Promise<string> {
      const text = (await readFile(configFile, 'utf8'))
        .replace(/^(inference|management|metrics)_address=.*$/gm, '$1_address=http://127.0.0.1:0')
        .replace(/^model_store=.*$/m, `model_store=${store}`)
        .replace(/^token_key_file=.*$/m, `token_key_file=${join(stateDir, 'key_file.json')}`);
      const file = join(stateDir, 'config.properties');
      await writeFile(file, text);
      return file;
    }

    it("the Deployment's command serves its models, probes answer without a token, inference needs one", async () => {
      const c = container(only(rendered.get('overlays/prod')!, 'Deployment'));
      const image = '/etc/model-server/config.properties';
      expect(c.args).toContain(image);
      const args = await Promise.all(c.args!.map(async (a) => (a === image ? localConfig() : a)));
      const real = await startCli(args, {
        TS_INFERENCE_KEY: 'inference-secret',
        TS_MANAGEMENT_KEY: 'management-secret',
        MODEL_SERVER_STATE_DIR: stateDir,
        TMPDIR: stateDir,
      });
      try {
        const probes = [c.startupProbe!, c.livenessProbe!, c.readinessProbe!].map((p) => p.httpGet.path);
        for (const path of probes) {
          const res = await fetch(`${real.inference}${path}`);
          expect(res.status, path).toBe(200);
          expect(await res.json(), path).toEqual(path.endsWith('/live') ? { live: true } : { ready: true });
        }
        const post = (key?: string) =>
          fetch(`${real.inference}/predictions/probe`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: '{"op":"echo","value":1}' });
        expect((await post()).status).toBe(401);
        expect((await post('inference-secret')).status).toBe(200);
        expect(real.stderr()).not.toMatch(/warning/i);
      } finally {
        expect(await real.stop()).toBe(0);
      }
    });

    it("the KServe runtime's command registers /mnt/models under the InferenceService's name", async () => {
      const runtime = runtimeContainer();
      const args = runtime.args!.map((a) => a.replace('{{.Name}}', 'mnist-isvc').replace('/mnt/models', mnt));
      const env = Object.fromEntries(runtime.env!.map((e) => [e.name, e.value!]));
      const server = await startCli(args, {
        ...env,
        // Loopback and OS-chosen ports here; the values themselves are checked above.
        TS_INFERENCE_ADDRESS: 'http://127.0.0.1:0',
        TS_MANAGEMENT_ADDRESS: 'http://127.0.0.1:0',
        TS_METRICS_ADDRESS: 'http://127.0.0.1:0',
        LOG_LOCATION: join(stateDir, 'logs'),
        MODEL_SERVER_STATE_DIR: stateDir,
        TMPDIR: stateDir,
      });
      try {
        for (const probe of [runtime.startupProbe!, runtime.livenessProbe!, runtime.readinessProbe!]) expect((await fetch(`${server.inference}${probe.httpGet.path}`)).status).toBe(200);
        // KServe's v1 and v2 URLs use the InferenceService's name; inference needs no token (the runtime turns it off).
        expect(await (await fetch(`${server.inference}/v2/models/mnist-isvc/ready`)).json()).toEqual({ name: 'mnist-isvc', ready: true });
        expect(await (await fetch(`${server.inference}/v1/models/mnist-isvc`)).json()).toEqual({ name: 'mnist-isvc', ready: true });
        const predicted = await fetch(`${server.inference}/predictions/mnist-isvc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"op":"echo","value":2}' });
        expect(await predicted.json()).toMatchObject({ value: 2 });
      } finally {
        expect(await server.stop()).toBe(0);
      }
    });

    it('metric names the autoscalers, the adapter rules and the dashboards query are exported; the queries are valid PromQL', async () => {
      const server = await startCli(['start', '--foreground', '--ncs', '--ts-config', await localConfig(), '--disable-token-auth'], {
        MODEL_SERVER_STATE_DIR: stateDir,
        TMPDIR: stateDir,
      });
      let exported: Set<string>;
      try {
        await fetch(`${server.inference}/predictions/probe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"op":"echo","value":1}' });
        exported = new Set(parseSamples(await (await fetch(`${server.metrics}/metrics`)).text()).map((s) => s.name));
      } finally {
        await server.stop();
      }

      const adapter = only(rendered.get('prometheus-adapter')!, 'ConfigMap');
      const rules = parseAdapterRules(adapter.data!['config.yaml']!);
      // The adapter's Go templates, filled in as it does for a request about two pods.
      const queries = rules.map((r) => adapterQuery(r, 'namespace="model-server",pod=~"model-server-a|model-server-b"', 'namespace, pod'));
      for (const r of rules) {
        expect(r.resources.overrides).toEqual({ namespace: { resource: 'namespace' }, pod: { resource: 'pod' } });
        queries.push(r.seriesQuery);
      }
      const scaled = only(rendered.get('overlays/prod-keda')!, 'ScaledObject').spec as { triggers: { metadata: { query: string } }[] };
      queries.push(...scaled.triggers.map((t) => t.metadata.query));
      for (const objects of kserve.values()) {
        for (const isvc of objects.filter((m) => m.kind === 'InferenceService')) {
          const metrics = (isvc.spec as { predictor: { autoScaling?: { metrics: { external?: { metric: { query: string } } }[] } } }).predictor.autoScaling?.metrics ?? [];
          queries.push(...metrics.flatMap((x) => (x.external ? [x.external.metric.query] : [])));
        }
      }
      const used = new Set(queries.flatMap((q) => [...q.matchAll(/\b(ts_[a-z_]+)\b/g)].map((m) => m[1]!)));
      expect([...used].sort()).toEqual(['ts_inference_requests_total', 'ts_inference_results_total', 'ts_queue_depth']);
      for (const name of used) expect(exported, name).toContain(name);

      const file = join(stateDir, 'rules.yml');
      await writeFile(file, `groups:\n  - name: deploy\n    rules:\n${queries.map((q, i) => `      - record: deploy:query_${i}\n        expr: ${JSON.stringify(q)}`).join('\n')}\n`);
      const check = await execa(prometheusTool('promtool'), ['check', 'rules', file], { reject: false });
      expect(check.exitCode, `${check.stdout}\n${check.stderr}`).toBe(0);

      // The HPA asks the adapter for a metric one of its rules serves.
      const hpa = only(rendered.get('overlays/prod')!, 'HorizontalPodAutoscaler').spec as { metrics: { pods?: { metric: { name: string } } }[] };
      expect(rules.map((r) => r.name.as)).toContain(hpa.metrics.find((x) => x.pods)!.pods!.metric.name);
    });
  });
});

describe('the files under deploy/ are the ones checked', () => {
  it('every kustomization and KServe file is covered', async () => {
    // base and components are rendered through the overlays that use them.
    const kustomizations = (await readdir(KUBERNETES_DIR, { recursive: true })).filter((f) => f.endsWith('kustomization.yaml')).map((f) => f.replace(/\/?kustomization\.yaml$/, ''));
    expect(kustomizations.filter((k) => k !== 'base' && !k.startsWith('components/')).sort()).toEqual([...KUSTOMIZATIONS].sort());
    for (const component of kustomizations.filter((k) => k.startsWith('components/'))) {
      const users = await Promise.all(KUSTOMIZATIONS.map(async (k) => (await readFile(join(KUBERNETES_DIR, k, 'kustomization.yaml'), 'utf8')).includes(`../../${component}`)));
      expect(users.some(Boolean), component).toBe(true);
    }
    expect((await readdir(KSERVE_DIR)).filter((f) => f.endsWith('.yaml')).sort()).toEqual([...kserve.keys()]);
  });
});
