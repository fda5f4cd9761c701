import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { gatewayNodeArgs, loadServerConfig, parseAddress } from '@model-server/gateway';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { parseSamples, prometheusTool } from './helpers/prom-text.js';
import { postJson, startServer } from './helpers/server.js';
import { findTool } from './helpers/tools.js';

const dockerCompose = () => findTool('docker-compose', 'install it with "apt-get install -y docker-compose"');

/** The Dockerfile's instructions as [instruction, argument] pairs, continuation lines joined. */
async function dockerfile(): Promise<[string, string][]> {
  const text = (await readFile(join(ROOT, 'Dockerfile'), 'utf8')).replace(/\\\n\s*/g, ' ');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => /^(\w+)\s+(.*)$/.exec(l)!.slice(1, 3) as [string, string]);
}

/** Where the image's config files come from in the repository, by their path in the image. */
async function imageConfigs(): Promise<Map<string, string>> {
  const copies = (await dockerfile()).filter(([i, a]) => i === 'COPY' && /config\.properties$/.test(a)).map(([, a]) => a.split(/\s+/));
  return new Map(copies.map(([from, to]) => [to!, join(ROOT, from!)]));
}

interface Datasource {
  type: string;
  uid: string;
}
interface Dashboard {
  panels: { title: string; datasource: Datasource; targets: { expr: string; datasource: Datasource }[] }[];
  templating: { list: { name: string; type: string; query: unknown; includeAll?: boolean }[] };
}

const dashboardFile = join(ROOT, 'deploy', 'grafana', 'dashboards', 'model-server.json');
const expressions = async () => ((JSON.parse(await readFile(dashboardFile, 'utf8')) as Dashboard).panels.flatMap((p) => p.targets.map((t) => t.expr)));

describe('deployment files', () => {
  it("the image's entrypoint starts node with the vmargs of every stage's config, so start --foreground needs no relaunch", async () => {
    const steps = await dockerfile();
    const entrypoint = JSON.parse(steps.find(([i]) => i === 'ENTRYPOINT')![1]) as string[];
    const script = entrypoint.indexOf('packages/cli/dist/main.js');
    expect(entrypoint[0]).toBe('node');
    const configs = await imageConfigs();
    const commands = steps.filter(([i]) => i === 'CMD').map(([, a]) => JSON.parse(a) as string[]);
    expect(commands.length).toBe(2);
    for (const cmd of commands) {
      expect(cmd.slice(0, 3)).toEqual(['start', '--foreground', '--ncs']);
      const file = configs.get(cmd[cmd.indexOf('--ts-config') + 1]!)!;
      const warnings: string[] = [];
      const config = loadServerConfig({ file, env: {}, warn: (w) => warnings.push(w) });
      expect(warnings).toEqual([]);
      expect(entrypoint.slice(1, script)).toEqual(gatewayNodeArgs(config));
      // A container must listen beyond its loopback; the HEALTHCHECK asks the inference port.
      expect(parseAddress(config.inference_address).host).toBe('0.0.0.0');
    }
    // The production stage is the last, so a plain `docker build .` makes it; compose asks for the demo.
    expect(steps.filter(([i]) => i === 'FROM').at(-1)![1]).toBe('runtime AS production');
    expect(await readFile(join(ROOT, 'docker-compose.yml'), 'utf8')).toMatch(/build:\n\s+context: \.\n\s+target: demo\n/);
    expect(steps).toContainEqual(['USER', '1000:1000']);
  });

  it("the image's HEALTHCHECK passes while the server answers, with no model healthy, and fails when nothing listens", async () => {
    const steps = await dockerfile();
    const healthcheck = /CMD (\[.*\])$/.exec(steps.find(([i]) => i === 'HEALTHCHECK')![1])![1]!;
    const [node, flag, script] = JSON.parse(healthcheck) as string[];
    expect([node, flag]).toEqual(['node', '-e']);
    const production = loadServerConfig({ file: (await imageConfigs()).get('/etc/model-server/config.properties')!, env: {} });
    const port = parseAddress(production.inference_address).port;
    expect(script).toContain(`http://127.0.0.1:${port}/v2/health/live`);
    // A model without workers: readiness says no, liveness (the HEALTHCHECK) still says yes.
    const store = await tempDir();
    await buildModel(store, { name: 'probe' });
    const server = await startServer({ store, models: ['probe.mar'] });
    const ours = script!.replace(`127.0.0.1:${port}`, new URL(server.url).host);
    const run = async () => (await execa(process.execPath, ['-e', ours], { reject: false })).exitCode;
    try {
      expect((await fetch(`${server.management}/models/probe?min_worker=0&max_worker=0&synchronous=true`, { method: 'PUT' })).status).toBe(200);
      expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(503);
      expect(await run()).toBe(0);
    } finally {
      await server.stop();
    }
    expect(await run()).toBe(1);
  });

  it('docker-compose.yml validates with docker-compose config', async () => {
    const r = await execa(dockerCompose(), ['-f', join(ROOT, 'docker-compose.yml'), 'config', '-q'], { reject: false, cwd: ROOT });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('the Prometheus config passes promtool check config', async () => {
    const r = await execa(prometheusTool('promtool'), ['check', 'config', join(ROOT, 'deploy', 'prometheus', 'prometheus.yml')], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it("the Grafana dashboard's queries are valid PromQL", async () => {
    const dir = await tempDir('ms-rules-');
    const rules = join(dir, 'rules.yml');
    const body = (await expressions()).map((e, i) => `      - record: dashboard:panel_${i}\n        expr: ${JSON.stringify(e)}`).join('\n');
    await writeFile(rules, `groups:\n  - name: dashboard\n    rules:\n${body}\n`);
    const r = await execa(prometheusTool('promtool'), ['check', 'rules', rules], { reject: false });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it('the Grafana dashboard serves many pods: every query follows the data source, job, namespace, instance and model variables', async () => {
    const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8')) as Dashboard;
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'job', 'namespace', 'instance', 'model']);
    expect(dashboard.templating.list[0]).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const byName = ['job', 'namespace', 'instance', 'model'];
    for (const v of dashboard.templating.list.slice(1)) expect(v, v.name).toMatchObject({ type: 'query', includeAll: true });
    let selectors = 0;
    for (const panel of dashboard.panels) {
      for (const ds of [panel.datasource, ...panel.targets.map((t) => t.datasource)]) expect(ds, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const { expr } of panel.targets) {
        // Every metric is selected with braces, and every selector names the variables.
        expect(expr.replace(/\b(?:ts|process)_[a-z_]+\{[^}]*\}/g, ''), expr).not.toMatch(/\b(?:ts|process)_[a-z_]+\b/);
        for (const m of expr.matchAll(/\b((?:ts|process)_[a-z_]+)\{([^}]*)\}/g)) {
          selectors++;
          const wanted = m[1]!.startsWith('process_') || m[1] === 'ts_http_responses_total' ? byName.slice(0, 3) : byName;
          for (const name of wanted) expect(m[2], `${panel.title}: ${m[1]}`).toContain(`${name === 'model' ? 'model_name' : name}=~"$${name}"`);
        }
      }
    }
    expect(selectors).toBeGreaterThan(15);
  });

  it('the Grafana dashboard only uses metrics the server exports', async () => {
    const store = await tempDir();
    await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
    const server = await startServer({ store, models: ['probe.mar'] });
    try {
      await postJson(`${server.url}/predictions/probe`, { op: 'echo' });
      const exported = new Set(parseSamples(await (await fetch(`${server.metrics}/metrics`)).text()).map((s) => s.name));
      const used = new Set((await expressions()).flatMap((e) => [...e.matchAll(/\b((?:ts|process)_[a-z_]+)\b/g)].map((m) => m[1]!)));
      expect(used.size).toBeGreaterThan(8);
      for (const name of used) expect(exported, name).toContain(name);
    } finally {
      await server.stop();
    }
  });
});
