import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { gatewayNodeArgs, loadServerConfig } from '@model-server/gateway';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { parseSamples, prometheusTool } from './helpers/prom-text.js';
import { postJson, startServer } from './helpers/server.js';

function dockerCompose(): string {
  for (const d of [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin']) if (d && existsSync(join(d, 'docker-compose'))) return join(d, 'docker-compose');
  throw new Error('docker-compose not found on PATH or in /usr/bin: install it with "apt-get install -y docker-compose"');
}

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

const dashboardFile = join(ROOT, 'deploy', 'grafana', 'dashboards', 'model-server.json');
const expressions = async () => ((JSON.parse(await readFile(dashboardFile, 'utf8')) as Dashboard).panels.flatMap((p) => p.targets.map((t) => t.expr)));

describe('deployment files', () => {
  it("the image's command starts node with the gateway's vmargs, so start --foreground needs no relaunch", async () => {
    const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const script = cmd.indexOf('packages/cli/dist/main.js');
    const config = loadServerConfig({ file: join(ROOT, 'deploy', 'config.properties'), env: {} });
    expect(cmd.slice(1, script)).toEqual(gatewayNodeArgs(config));
    expect(cmd.slice(script + 1, script + 3)).toEqual(['start', '--foreground']);
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
