import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gatewayNodeArgs, loadServerConfig } from '@model-server/gateway/launch';
import { childPids } from '../cpu.js';
import { REPO_ROOT } from '../paths.js';
import { killOnExit } from './cleanup.js';
import { watchChild } from './watch-child.js';

const CLI = join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js');
/** Generous: three replicas start one after the other on a shared 2-core machine. */
const START_TIMEOUT_MS = 120_000;

export interface Replica {
  readonly port: number;
  /** `http://127.0.0.1:port`, the inference listener. */
  readonly url: string;
  readonly pid: number;
  readonly alive: boolean;
  /** Resolves once the gateway process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The worker processes the gateway runs now. */
  workers(): number[];
  /** Everything the process wrote so far (JSON log lines and the start banner). */
  output(): string;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM and wait; SIGKILL if it is still there after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface ReplicaOptions {
  /** A folder of its own: config.properties, state file, logs. */
  dir: string;
  store: string;
  /** `--models` specs, e.g. `sleep=sleep.mar`. */
  models: string[];
  /** The inference port: fixed, so a replica that comes back is the same upstream to the balancer. */
  port: number;
  /** Extra config.properties keys. */
  properties?: Record<string, string | number | boolean>;
}

/**
 * The first port of the kernel's ephemeral range. Ports below it are never handed out to outgoing
 * connections, so a port a killed replica used stays free for it to come back on (the balancer's own
 * upstream connections take ephemeral ports).
 */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/** A loopback port below the ephemeral range that nothing listens on now. */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  const low = Math.max(1024, high - 20_000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free loopback port found between ${low} and ${high}`);
}

/**
 * Starts one replica: `model-server start --foreground` as its own process, inference on
 * 127.0.0.1:`port`, management, metrics and gRPC on ports the OS picks. The gateway runs with the
 * node flags `start` would relaunch with, so the pid signalled is the gateway's own. Resolves once the
 * start banner is out (models loaded, listeners open).
 */
export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  await mkdir(options.dir, { recursive: true });
  const props: Record<string, unknown> = {
    inference_address: `http://127.0.0.1:${options.port}`,
    management_address: 'http://127.0.0.1:0',
    metrics_address: 'http://127.0.0.1:0',
    grpc_inference_port: 0,
    grpc_management_port: 0,
    disable_token_authorization: true,
    ...options.properties,
  };
  const configFile = join(options.dir, 'config.properties');
  await writeFile(configFile, Object.entries(props).map(([k, v]) => `${k}=${String(v)}`).join('\n') + '\n');
  const nodeArgs = gatewayNodeArgs(loadServerConfig({ file: configFile }));
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, CLI, 'start', '--foreground', '--ncs', '--ts-config', configFile, '--model-store', options.store, '--models', options.models.join(',')],
    { env: { ...process.env, MODEL_SERVER_STATE_DIR: options.dir, LOG_LOCATION: options.dir, LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const forget = killOnExit(child);
  const watched = watchChild(child);
  const { exited } = watched;
  void exited.then(forget);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`replica on port ${options.port} did not start within ${START_TIMEOUT_MS} ms:\n${watched.output()}`));
    }, START_TIMEOUT_MS);
    const onData = (): void => {
      if (!/metrics:\s+http\S+/.test(watched.output())) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve();
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`replica on port ${options.port} exited during start-up (${code ?? signal}):\n${watched.output()}`));
    });
  });
  const pid = child.pid!;
  return {
    port: options.port,
    url: `http://127.0.0.1:${options.port}`,
    pid,
    get alive() {
      return watched.alive;
    },
    exited,
    workers: () => (watched.alive ? childPids(pid) : []),
    output: watched.output,
    signal: (signal) => {
      if (watched.alive) child.kill(signal);
    },
    async stop(timeoutMs = 30_000) {
      if (!watched.alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
