import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { tempDir } from './models.js';
import { prometheusTool } from './prom-text.js';
import { waitFor } from './wait.js';

export interface QueryResult {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

export interface TestPrometheus {
  url: string;
  /** An instant query through the HTTP API. */
  query(promql: string): Promise<QueryResult>;
  /** The end of Prometheus' log, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** A loopback port that was free a moment ago (Prometheus cannot report a port it picked itself). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Debian's Prometheus on loopback, scraping `target` (host:port) every second as job `model-server`,
 * with `labels` added to every series (as a Kubernetes scrape adds namespace and pod). Resolves once ready.
 */
export async function startPrometheus(target: string, labels: Record<string, string> = {}): Promise<TestPrometheus> {
  const binary = prometheusTool('prometheus');
  const dir = await tempDir('ms-prometheus-');
  const config = join(dir, 'prometheus.yml');
  const extra = Object.entries(labels).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: model-server',
      `    static_configs: [{ targets: ['${target}'], labels: { ${extra} } }]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = execa(binary, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    reject: false,
    buffer: false,
    stdin: 'ignore',
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  await waitFor(
    async () => {
      if (child.exitCode !== null && child.exitCode !== undefined) throw new Error(`prometheus exited: ${log}`);
      return (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200;
    },
    30_000,
    'prometheus to be ready',
  );
  return {
    url,
    query: async (promql) => (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as QueryResult,
    log: () => log,
    stop: async () => {
      child.kill('SIGTERM');
      await child;
    },
  };
}
