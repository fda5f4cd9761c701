import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * What a running server leaves behind for `stop` and `status` (TorchServe keeps one pid file per
 * machine). One file per folder the server was started from, so servers of different checkouts run
 * side by side and each command acts on the server of its own folder.
 */
export interface ServerState {
  pid: number;
  /** gRPC addresses are absent in state files of servers from before gRPC. */
  addresses: { inference: string; management: string; metrics: string; grpcInference?: string; grpcManagement?: string };
  startedAt: string;
  /** The folder it was started from (real path): the server a plain `stop` / `status` there acts on. */
  cwd: string;
  /** Its config file (real path), when started with one. */
  configFile?: string | undefined;
  /** Whether token authorization is on, and where generated keys are (absent for keys given by config). */
  tokenAuth?: { on: boolean; keyFile?: string | undefined } | undefined;
  /** The config snapshot it restored, if any. */
  restoredSnapshot?: string | undefined;
  /** PEM certificate of its https:// listeners, for the CLI's own requests to it. */
  certificateFile?: string | undefined;
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['MODEL_SERVER_STATE_DIR'] ?? tmpdir();
}

const PREFIX = `.model_server-${process.getuid?.() ?? 0}-`;

function realCwd(cwd = process.cwd()): string {
  try {
    return realpathSync(cwd);
  } catch {
    return resolve(cwd);
  }
}

/** The state file of the server started from `cwd`. */
export function stateFilePath(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  const key = createHash('sha256').update(realCwd(cwd)).digest('hex').slice(0, 16);
  return join(stateDir(env), `${PREFIX}${key}.json`);
}

async function readStateFile(path: string): Promise<ServerState | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ServerState;
  } catch {
    return undefined;
  }
}

/** The state of the server started from this folder, if one is recorded. */
export function readState(cwd = process.cwd()): Promise<ServerState | undefined> {
  return readStateFile(stateFilePath(cwd));
}

/** Every recorded server of this user whose process is alive (stale files are removed). */
export async function liveStates(): Promise<ServerState[]> {
  const dir = stateDir();
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(PREFIX) && n.endsWith('.json'));
  const out: ServerState[] = [];
  for (const name of names) {
    const state = await readStateFile(join(dir, name));
    if (state && isAlive(state.pid)) out.push(state);
    else if (state) await rm(join(dir, name), { force: true });
  }
  return out.sort((a, b) => a.cwd.localeCompare(b.cwd));
}

/** What names a server on the command line: `--pid`, `--ts-config`, or (neither) this folder. */
export interface ServerSelector {
  pid?: number | undefined;
  configFile?: string | undefined;
}

/** The live server the selector names, or undefined. */
export async function findServer(selector: ServerSelector): Promise<ServerState | undefined> {
  if (selector.pid === undefined && selector.configFile === undefined) {
    const state = await readState();
    return state && isAlive(state.pid) ? state : undefined;
  }
  const wanted = selector.configFile === undefined ? undefined : realCwd(selector.configFile);
  return (await liveStates()).find((s) => (selector.pid === undefined || s.pid === selector.pid) && (wanted === undefined || s.configFile === wanted));
}

export async function writeState(state: Omit<ServerState, 'cwd'>): Promise<void> {
  const full: ServerState = { ...state, cwd: realCwd(), ...(state.configFile ? { configFile: realCwd(state.configFile) } : {}) };
  await writeFile(stateFilePath(), `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
}

/** Removes this folder's state file if it still belongs to `pid`. */
export async function clearState(pid: number, cwd = process.cwd()): Promise<void> {
  const current = await readState(cwd);
  if (current?.pid === pid) await rm(stateFilePath(cwd), { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
