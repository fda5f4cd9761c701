import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EPHEMERAL_LOOPBACK, gatewayNodeArgs, loadServerConfig } from '@model-server/gateway/launch';
import { watchChild } from '../../bench/src/replicas/watch-child.js';
import { ROOT, tempDir } from './models.js';

export const CLI = join(ROOT, 'packages/cli/dist/main.js');

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  management: string;
  metrics: string;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code and signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly alive: boolean;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `model-server start --foreground` as a real process (so a crash shows as an exit, not as an
 * error inside the test runner), on loopback ports chosen by the OS, and resolves once its start
 * banner names the addresses. `properties` are extra config.properties lines.
 */
export async function startServerProcess(options: {
  store: string;
  models: string[];
  properties?: Record<string, string | number | boolean>;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** A process group of its own, so the test can signal it as a terminal does (`kill(-pid)`). */
  detached?: boolean;
}): Promise<ServerProcess> {
  const dir = await tempDir('ms-proc-');
  const props: Record<string, unknown> = {
    ...EPHEMERAL_LOOPBACK,
    disable_token_authorization: true,
    ...options.properties,
  };
  const configFile = join(dir, 'config.properties');
  await writeFile(configFile, Object.entries(props).map(([k, v]) => `${k}=${String(v)}`).join('\n') + '\n');
  const nodeArgs = gatewayNodeArgs(loadServerConfig({ file: configFile }));
  const child = spawn(
    process.execPath,
    [...nodeArgs, CLI, 'start', '--foreground', '--ncs', '--ts-config', configFile, '--model-store', options.store, '--models', options.models.join(','), ...(options.args ?? [])],
    {
      env: { ...process.env, MODEL_SERVER_STATE_DIR: dir, LOG_LOCATION: dir, LOG_FORMAT: 'json', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    },
  );
  const watched = watchChild(child);
  const { exited } = watched;
  const banner = await new Promise<string>((resolve, reject) => {
    const onData = (): void => {
      if (/metrics:\s+http\S+/.test(watched.output())) {
        child.stdout!.off('data', onData);
        resolve(watched.output());
      }
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => reject(new Error(`server exited during start-up (${code ?? signal}):\n${watched.output()}`)));
  });
  const address = (name: string): string => new RegExp(`${name}:\\s+(http\\S+)`).exec(banner)![1]!;
  return {
    child,
    pid: child.pid!,
    url: address('inference'),
    management: address('management'),
    metrics: address('metrics'),
    output: watched.output,
    exited,
    get alive() {
      return watched.alive;
    },
    async stop() {
      if (watched.alive) child.kill('SIGTERM');
      await exited;
    },
  };
}
