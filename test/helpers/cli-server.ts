import { join } from 'node:path';
import { execa } from 'execa';
import { ROOT } from './models.js';

export const CLI = join(ROOT, 'packages/cli/dist/main.js');

export interface CliServer {
  inference: string;
  metrics: string;
  /** What the server wrote to stderr so far (warnings about config keys land there). */
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | undefined>;
}

/**
 * Runs `model-server` in the foreground with `args` and `env` as a container would, and resolves once
 * its start banner names the addresses it listens on. Fails if the process exits first.
 */
export async function startCli(args: readonly string[], env: Record<string, string>): Promise<CliServer> {
  const child = execa(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...env }, extendEnv: false, reject: false, buffer: false });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const banner = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/metrics:\s+\S+/.test(out)) resolve(out);
    });
    void child.then((r) => reject(new Error(`model-server exited (${String(r.exitCode)}) before listening:\n${out}\n${err}`)));
  });
  const address = (name: string) => /\S+/.exec(banner.split(`${name}:`)[1] ?? '')?.[0] ?? '';
  return {
    inference: address('inference'),
    metrics: address('metrics'),
    stderr: () => err,
    stop: async () => {
      child.kill('SIGTERM');
      return (await child).exitCode;
    },
  };
}
