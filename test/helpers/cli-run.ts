import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, tempDir } from './models.js';

export const CLI_BIN = join(ROOT, 'packages', 'cli', 'bin', 'model-server.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A folder to run `model-server` from, as a user's checkout or project folder, with its own logs. */
export interface CliFolder {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Runs `model-server ...args` in this folder (through the committed bin file, as npx does). */
  run(...args: string[]): Promise<CliResult>;
}

/** A fresh folder; `stateDir` is shared by the folders of one test file, as the OS temp dir is by a user's checkouts. */
export async function cliFolder(stateDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<CliFolder> {
  const dir = await tempDir('ms-folder-');
  await mkdir(join(dir, 'logs'), { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, MODEL_SERVER_STATE_DIR: stateDir, LOG_LOCATION: join(dir, 'logs'), LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...extraEnv };
  const run = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(process.execPath, [CLI_BIN, ...args], { cwd: dir, env, timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  return { dir, env, run };
}

/** The address a start banner gives for `api` (inference, management, metrics). */
export function bannerAddress(stdout: string, api: string): string {
  const match = new RegExp(`${api}:\\s+(https?://\\S+)`).exec(stdout);
  if (!match) throw new Error(`no ${api} address in:\n${stdout}`);
  return match[1]!;
}
