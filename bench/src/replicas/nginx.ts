import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { childPids } from '../cpu.js';
import { killOnExit } from './cleanup.js';

/** Debian's package puts the binary in /usr/sbin, which a non-root PATH often lacks. */
const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'];
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

/** What nginx retries on the next replica (see nginxConfig). */
export const NEXT_UPSTREAM = 'error timeout http_503 non_idempotent';

export interface BalancerOptions {
  /** `proxy_next_upstream`, to compare policies (nginx's own default is `error timeout`). */
  nextUpstream?: string;
  /** `proxy_read_timeout` and `proxy_send_timeout`, s. */
  readTimeoutS?: number;
}

/** A listener of the balancer and the replicas (inference ports) it spreads requests over. */
export interface Site {
  /** The upstream block's name, also the site's label in reports. */
  name: string;
  port: number;
  upstreams: number[];
}

/** One line of the access log: what the client got, and every upstream nginx tried for it. */
export interface AccessEntry {
  /** When nginx finished the request, ms since the epoch (nginx's `$msec`). */
  endMs: number;
  /** How long it took, ms (`$request_time`). */
  durationMs: number;
  status: number;
  /** One per upstream attempt, in order: the port and the status nginx got (502 for a connection error). */
  attempts: { port: number; status: number }[];
  site: string;
}

/** An upstream error nginx logged: which replica, and whether the request had been sent to it. */
export interface UpstreamError {
  port: number;
  /** refused: connect() failed, nothing sent. reset / closed: sent, and the connection died without an answer. */
  kind: 'refused' | 'reset' | 'closed' | 'timeout' | 'other';
}

export interface Balancer {
  url(site: string): string;
  readonly pid: number;
  /** nginx's worker processes (the master forks them). */
  workers(): number[];
  /** The access log so far. */
  accessLog(): Promise<AccessEntry[]>;
  /** The error log so far (upstream connection errors are logged there). */
  errorLog(): Promise<string>;
  /** The upstream errors in the error log so far. */
  upstreamErrors(): Promise<UpstreamError[]>;
  stop(): Promise<void>;
}

export function nginxBinary(): string {
  const found = NGINX_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`nginx not found (looked in ${NGINX_CANDIDATES.join(', ')}): apt-get install nginx`);
  return found;
}

/**
 * The balancer's configuration, as docs/deployment.md recommends it for model-server replicas:
 *
 * - keep-alive upstream connections (`keepalive`, HTTP/1.1, no `Connection` header passed on), so a
 *   request costs no TCP handshake to the replica;
 * - `proxy_next_upstream error timeout http_503 non_idempotent`: inference is a POST, which nginx
 *   retries only with `non_idempotent` once the request was sent. Retried: a connection refused or
 *   closed without a response (a replica gone or stopping, a keep-alive connection it closed), a
 *   connect timeout, and 503, which model-server answers only for work it did not start
 *   (SERVER_DRAINING, QUEUE_FULL, NO_WORKER, MODEL_LOAD_FAILING, MODEL_NOT_READY). Not retried: 500,
 *   502 and 504 answers, which the next replica would repeat or which already spent the deadline;
 * - `proxy_read_timeout` above the server's own response timeout, so `timeout` never re-runs a request
 *   that is merely slow (a replica answers its own 504 first);
 * - `max_fails=1 fail_timeout=2s`: a failing replica is skipped for 2 s, then tried again (how a
 *   replica that comes back rejoins without active health checks, which open-source nginx lacks).
 *
 * `X-Upstream` tells the client which replica answered, and the access log records every attempt.
 */
export function nginxConfig(dir: string, sites: Site[], options: BalancerOptions = {}): string {
  const readTimeout = options.readTimeoutS ?? 130;
  const nextUpstream = options.nextUpstream ?? NEXT_UPSTREAM;
  const lines = [
    'daemon off;',
    // As root, the worker processes would otherwise switch to "nobody", which cannot enter the temp folder.
    ...(process.getuid?.() === 0 ? [`user ${userInfo().username};`] : []),
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    `  log_format replicas '$msec $request_time $status "$upstream_addr" "$upstream_status" $server_port';`,
    `  access_log ${join(dir, 'access.log')} replicas;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`),
    '  client_max_body_size 20m;',
  ];
  for (const site of sites) {
    lines.push(
      `  upstream ${site.name} {`,
      ...site.upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`),
      '    keepalive 32;',
      '  }',
      '  server {',
      `    listen 127.0.0.1:${site.port};`,
      '    location / {',
      `      proxy_pass http://${site.name};`,
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      `      proxy_next_upstream ${nextUpstream};`,
      '      proxy_next_upstream_tries 3;',
      '      proxy_next_upstream_timeout 15s;',
      '      proxy_connect_timeout 2s;',
      `      proxy_send_timeout ${readTimeout}s;`,
      `      proxy_read_timeout ${readTimeout}s;`,
      '      add_header X-Upstream $upstream_addr always;',
      '    }',
      '  }',
    );
  }
  lines.push('}', '');
  return lines.join('\n');
}

function parseAccessLine(line: string, sites: Site[]): AccessEntry | undefined {
  const m = /^(\S+) (\S+) (\d+) "([^"]*)" "([^"]*)" (\d+)$/.exec(line);
  if (!m) return undefined;
  // Attempts are listed ", "-separated; "-" (or the upstream's name, when none was live) has no port.
  const split = (v: string): string[] => (v === '-' || v === '' ? [] : v.split(/,\s*/));
  const statuses = split(m[5]!);
  const ports = split(m[4]!).map((a) => Number(/:(\d+)$/.exec(a)?.[1] ?? 0));
  const port = Number(m[6]);
  return {
    endMs: Number(m[1]) * 1000,
    durationMs: Number(m[2]) * 1000,
    status: Number(m[3]),
    attempts: ports.map((p, i) => ({ port: p, status: Number(statuses[i]) })),
    site: sites.find((s) => s.port === port)?.name ?? String(port),
  };
}

export function parseUpstreamErrors(log: string): UpstreamError[] {
  const out: UpstreamError[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes('[error]')) continue;
    const port = /upstream: "http:\/\/[^:"]+:(\d+)/.exec(line);
    if (!port) continue;
    const kind: UpstreamError['kind'] = /connect\(\) failed \(111/.test(line)
      ? 'refused'
      : /\(104: Connection reset by peer\)/.test(line)
        ? 'reset'
        : /prematurely closed connection/.test(line)
          ? 'closed'
          : /timed out/.test(line)
            ? 'timeout'
            : 'other';
    out.push({ port: Number(port[1]), kind });
  }
  return out;
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Debian's nginx in the foreground as the current user, with its own config, pid file, logs and temp
 * folders under `dir`, listening on loopback only. Resolves once every site accepts connections.
 */
export async function startNginx(dir: string, sites: Site[], options: BalancerOptions = {}): Promise<Balancer> {
  await mkdir(dir, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, nginxConfig(dir, sites, options));
  // -e: errors before the config is read go to stderr, not to the packaged /var/log/nginx path.
  const child = spawn(nginxBinary(), ['-p', dir, '-c', conf, '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const forget = killOnExit(child, 'SIGTERM');
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      forget();
      resolve();
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = performance.now() + START_TIMEOUT_MS;
  for (;;) {
    if (gone) throw new Error(`nginx exited at start: ${stderr}`);
    if ((await Promise.all(sites.map((s) => reachable(s.port)))).every(Boolean)) break;
    if (performance.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`nginx did not listen within ${START_TIMEOUT_MS} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const pid = child.pid!;
  const read = (name: string): Promise<string> => readFile(join(dir, name), 'utf8').catch(() => '');
  return {
    url: (name) => `http://127.0.0.1:${sites.find((s) => s.name === name)!.port}`,
    pid,
    workers: () => (gone ? [] : childPids(pid)),
    accessLog: async () =>
      (await read('access.log'))
        .split('\n')
        .map((l) => parseAccessLine(l, sites))
        .filter((e): e is AccessEntry => e !== undefined),
    errorLog: () => read('error.log'),
    upstreamErrors: async () => parseUpstreamErrors(await read('error.log')),
    async stop() {
      if (gone) return;
      // SIGQUIT: nginx's graceful stop (finishes open requests, then the workers and master exit).
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGTERM'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
