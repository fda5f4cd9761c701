import { readFile } from 'node:fs/promises';
import { loadServerConfig } from '@model-server/gateway/launch';
import { localGet, pingStatus } from './local-client.js';
import type { ServerState } from './state-file.js';

/** How long one management call of `status` may take. */
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * `model-server status`: what a running server reports about itself, collected over its management API
 * (`GET /models`, `GET /models/{m}/all`) and `/ping`, and rendered for a terminal. Collecting and
 * rendering are separate so that other views (a watch mode, a status page) reuse them.
 */

export interface WorkerStatus {
  id: string;
  status: string;
  pid: number;
  memoryBytes: number;
}

export interface VersionStatus {
  version: string;
  isDefault: boolean;
  batchSize: number;
  maxBatchDelayMs: number;
  minWorkers: number;
  maxWorkers: number;
  workers: WorkerStatus[];
  queued: number;
  queueCapacity: number;
  configWarnings: string[];
}

export interface ModelStatus {
  name: string;
  versions: VersionStatus[];
}

export interface ServerStatus {
  state: ServerState;
  /** `/ping`'s status code; undefined when the server did not answer. */
  ping: number | undefined;
  /** The models, or why they could not be listed. */
  models: ModelStatus[] | { error: string };
}

interface Described {
  modelVersion: string;
  batchSize: number;
  maxBatchDelay: number;
  minWorkers: number;
  maxWorkers: number;
  workers: { id: string; status: string; pid: number; memoryUsage: number }[];
  jobQueueStatus: { remainingCapacity: number; pendingRequests: number };
  configWarnings?: string[];
}

/**
 * The management key: MODEL_SERVER_MANAGEMENT_KEY when set, else from the server's key file, or the
 * keys its config gives (containers).
 */
async function managementKey(state: ServerState): Promise<string | undefined> {
  const fromEnv = process.env['MODEL_SERVER_MANAGEMENT_KEY'];
  if (fromEnv) return fromEnv;
  if (!state.tokenAuth?.on) return undefined;
  if (state.tokenAuth.keyFile) {
    try {
      const keys = JSON.parse(await readFile(state.tokenAuth.keyFile, 'utf8')) as { management?: { key?: string } };
      if (keys.management?.key) return keys.management.key;
    } catch {
      // Not readable from here: fall back to the configured key.
    }
  }
  try {
    return loadServerConfig({ file: state.configFile }).management_key || undefined;
  } catch {
    return undefined;
  }
}

/** `GET path` on the management port with the management key, parsed; a refusal or error status throws. */
export async function managementGet<T>(state: ServerState, path: string): Promise<T> {
  const key = await managementKey(state);
  const res = await localGet(state.addresses.management, path, {
    certificateFile: state.certificateFile,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  if (res.status === 401) {
    throw new Error('the management API refused the key: set MODEL_SERVER_MANAGEMENT_KEY, or run as the user whose server wrote the key file (or set management_key)');
  }
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${res.body.slice(0, 200)}`);
  return JSON.parse(res.body) as T;
}

/** Asks the server for its models; never throws (a failure becomes `models.error`). */
export async function collectStatus(state: ServerState): Promise<ServerStatus> {
  const ping = await pingStatus(state.addresses.inference, state.certificateFile);
  const get = <T>(path: string): Promise<T> => managementGet<T>(state, path);
  try {
    const names: string[] = [];
    let token: string | undefined = '0';
    while (token !== undefined) {
      const page: { models: { modelName: string }[]; nextPageToken?: string } = await get(`/models?limit=100&next_page_token=${token}`);
      names.push(...page.models.map((m) => m.modelName));
      token = page.nextPageToken;
    }
    const models = await Promise.all(
      names.map(async (name): Promise<ModelStatus> => {
        const [current] = await get<Described[]>(`/models/${encodeURIComponent(name)}`);
        const all = await get<Described[]>(`/models/${encodeURIComponent(name)}/all`);
        return {
          name,
          versions: all.map((d) => ({
            version: d.modelVersion,
            isDefault: d.modelVersion === current?.modelVersion,
            batchSize: d.batchSize,
            maxBatchDelayMs: d.maxBatchDelay,
            minWorkers: d.minWorkers,
            maxWorkers: d.maxWorkers,
            workers: d.workers.map((w) => ({ id: w.id, status: w.status, pid: w.pid, memoryBytes: w.memoryUsage })),
            queued: d.jobQueueStatus.pendingRequests,
            queueCapacity: d.jobQueueStatus.pendingRequests + d.jobQueueStatus.remainingCapacity,
            configWarnings: d.configWarnings ?? [],
          })),
        };
      }),
    );
    return { state, ping, models };
  } catch (err) {
    return { state, ping, models: { error: (err as Error).message } };
  }
}

const MB = 1024 * 1024;

function health(ping: number | undefined): string {
  return ping === 200 ? 'Healthy' : ping === undefined ? 'no answer' : `Unhealthy (${ping})`;
}

function authLine(state: ServerState): string {
  const auth = state.tokenAuth;
  if (!auth) return 'unknown';
  if (!auth.on) return `off${state.restoredSnapshot ? ` (restored from config snapshot ${state.restoredSnapshot})` : ''}`;
  return `on (${auth.keyFile ? `keys in ${auth.keyFile}` : 'keys given by configuration'})`;
}

/** The status as text for a terminal: the server, then one block per model version and one line per worker. */
export function formatStatus(s: ServerStatus): string {
  const { state } = s;
  const lines = [
    `model-server is running (pid ${state.pid}, since ${state.startedAt})`,
    `  folder:     ${state.cwd}${state.configFile ? `  config: ${state.configFile}` : ''}`,
    `  inference:  ${state.addresses.inference}  (/ping: ${health(s.ping)})`,
    `  management: ${state.addresses.management}`,
    `  metrics:    ${state.addresses.metrics}`,
    `  token authorization: ${authLine(state)}`,
  ];
  if ('error' in s.models) {
    lines.push(`  models: cannot list them: ${s.models.error}`);
    return `${lines.join('\n')}\n`;
  }
  if (s.models.length === 0) lines.push('  models: none');
  for (const model of s.models) {
    for (const v of model.versions) {
      lines.push(
        `  model ${model.name} ${v.version}${v.isDefault ? ' (default)' : ''}: ${v.workers.length} worker(s) (min ${v.minWorkers}, max ${v.maxWorkers}), ` +
          `queue ${v.queued}/${v.queueCapacity}, batchSize ${v.batchSize}, maxBatchDelay ${v.maxBatchDelayMs} ms`,
      );
      for (const w of v.workers) lines.push(`    worker ${w.id}  ${w.status.padEnd(9)} pid ${w.pid}  ${(w.memoryBytes / MB).toFixed(1)} MB`);
      for (const warning of v.configWarnings) lines.push(`    note: ${warning}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
