import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EPHEMERAL_LOOPBACK, gatewayNodeArgs, loadServerConfig } from '@model-server/gateway';
import { createArchive } from '@model-server/model-archiver';
import { MNIST_ONNX } from '../fixtures.js';
import { REPO_ROOT } from '../paths.js';

const CLI = join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js');

export interface SoakServer {
  pid: number;
  url: string;
  management: string;
  metrics: string;
  /** The last lines the server wrote (its log), for a report of what went wrong. */
  tail(): string;
  readonly alive: boolean;
  /** SIGTERM (the graceful drain), then waits for the exit and removes the temporary folder. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The soak's models: the no-op handler (serving overhead) and the mnist example (a real ONNX model). */
const MODELS = [
  { name: 'noop', handler: join(REPO_ROOT, 'bench', 'handlers', 'noop.ts'), config: 'minWorkers: 1\nbatchSize: 32\nmaxBatchDelay: 0\n' },
  { name: 'mnist', handler: join(REPO_ROOT, 'examples', 'mnist', 'handler.ts'), serializedFile: MNIST_ONNX, config: 'minWorkers: 1\nbatchSize: 8\nmaxBatchDelay: 0\n' },
];
const TAIL_BYTES = 64 * 1024;

/**
 * Starts `model-server start --foreground` as production runs it (the node flags `model-server start`
 * gives the gateway, access log on), on loopback ports chosen by the OS, serving the soak's models.
 */
export async function startSoakServer(): Promise<SoakServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ms-soak-'));
  const store = join(dir, 'store');
  for (const m of MODELS) {
    const configFile = join(dir, `${m.name}.yaml`);
    await writeFile(configFile, m.config);
    await createArchive({ modelName: m.name, version: '1.0', handler: m.handler, serializedFile: m.serializedFile, configFile, exportPath: store, archiveFormat: 'default', force: true });
  }
  const configFile = join(dir, 'config.properties');
  const props = {
    ...EPHEMERAL_LOOPBACK,
    disable_token_authorization: true,
  };
  await writeFile(configFile, Object.entries(props).map(([k, v]) => `${k}=${String(v)}`).join('\n') + '\n');
  const child: ChildProcess = spawn(
    process.execPath,
    [...gatewayNodeArgs(loadServerConfig({ file: configFile })), CLI, 'start', '--foreground', '--ncs', '--ts-config', configFile, '--model-store', store, '--models', MODELS.map((m) => `${m.name}=${m.name}.mar`).join(',')],
    { env: { ...process.env, MODEL_SERVER_STATE_DIR: dir, LOG_LOCATION: join(dir, 'logs'), LOG_FORMAT: 'json', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  let alive = true;
  const keep = (d: Buffer): void => {
    text = (text + d.toString()).slice(-TAIL_BYTES);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      alive = false;
      resolve({ code, signal });
    }),
  );
  const banner = await new Promise<string>((resolve, reject) => {
    const onData = (): void => {
      if (/metrics:\s+http\S+/.test(text)) resolve(text);
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => reject(new Error(`the server exited during start-up (${code ?? signal}):\n${text}`)));
  });
  const address = (name: string): string => new RegExp(`${name}:\\s+(http\\S+)`).exec(banner)![1]!;
  return {
    pid: child.pid!,
    url: address('inference'),
    management: address('management'),
    metrics: address('metrics'),
    tail: () => text,
    get alive() {
      return alive;
    },
    async stop() {
      if (alive) child.kill('SIGTERM');
      const exit = await exited;
      await rm(dir, { recursive: true, force: true });
      return exit;
    },
  };
}

/** The worker pids of each model, from describe. */
export async function workerPids(server: SoakServer): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const m of MODELS) {
    const res = await fetch(`${server.management}/models/${m.name}`);
    const [d] = (await res.json()) as { workers: { pid: number }[] }[];
    out[m.name] = d!.workers.map((w) => w.pid);
  }
  return out;
}
