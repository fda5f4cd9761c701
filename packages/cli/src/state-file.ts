import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a running server leaves behind for `stop` and `status` (TorchServe keeps a pid file). */
export interface ServerState {
  pid: number;
  /** gRPC addresses are absent in state files of servers from before gRPC. */
  addresses: { inference: string; management: string; metrics: string; grpcInference?: string; grpcManagement?: string };
  startedAt: string;
  /** The key file the server wrote (token authorization on, generated keys), for `status` to read the management key. */
  keyFile?: string;
}

export function stateFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['MODEL_SERVER_STATE_DIR'] ?? tmpdir(), '.model_server.json');
}

export async function readState(): Promise<ServerState | undefined> {
  try {
    return JSON.parse(await readFile(stateFilePath(), 'utf8')) as ServerState;
  } catch {
    return undefined;
  }
}

export async function writeState(state: ServerState): Promise<void> {
  await writeFile(stateFilePath(), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export async function clearState(pid: number): Promise<void> {
  const current = await readState();
  if (current?.pid === pid) await rm(stateFilePath(), { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
