import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KNOWN_KEYS, type ServerConfig } from '../config/server-config.js';
import type { ModelSnapshot } from './model-snapshot.js';

export type SnapshotKind = 'startup' | 'snapshot' | 'shutdown';

/** TorchServe's snapshot file names: `yyyyMMddHHmmssSSS-<kind>.cfg`. */
const SNAPSHOT_FILE = /^\d{17}-(startup|snapshot|shutdown)\.cfg$/;
/** Snapshots kept per folder; older ones are removed (TorchServe keeps them all, forever). */
export const SNAPSHOTS_KEPT = 20;
/** Never written into a snapshot: secrets, and what the snapshot itself replaces. */
const NOT_SNAPSHOTTED = new Set(['inference_key', 'management_key', 'model_snapshot', 'load_models']);

/** The default snapshot folder, as TorchServe: `$LOG_LOCATION/config`, `LOG_LOCATION` defaulting to `logs`. */
export function defaultSnapshotDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['LOG_LOCATION'] ?? 'logs', 'config');
}

/** The newest snapshot file in `dir`, if any (names sort by time). */
export async function latestSnapshot(dir: string): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const newest = names.filter((n) => SNAPSHOT_FILE.test(n)).sort().at(-1);
  return newest === undefined ? undefined : join(dir, newest);
}

function stamp(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${p(d.getUTCMilliseconds(), 3)}`;
}

/**
 * Writes config snapshots: a full config.properties of the running server plus `model_snapshot`, so
 * that a restart that passes no config restores the models as they were. Writes are serialised and
 * atomic (written beside, then renamed), so a crash never leaves a half snapshot as the newest.
 */
export class SnapshotStore {
  private chain: Promise<void> = Promise.resolve();
  private lastStamp = '';

  constructor(readonly dir: string) {}

  /** Queues a snapshot; `state` is called when the write happens, so it sees the latest state. */
  write(kind: SnapshotKind, config: ServerConfig, state: (fileName: string) => ModelSnapshot): Promise<void> {
    const next = this.chain.then(async () => {
      let s = stamp(new Date());
      // Two snapshots in one millisecond must still sort in write order.
      if (s <= this.lastStamp) s = String(BigInt(this.lastStamp) + 1n);
      this.lastStamp = s;
      const name = `${s}-${kind}.cfg`;
      const lines = [`# model-server ${kind} snapshot, written ${new Date().toISOString()}`];
      for (const key of [...KNOWN_KEYS].sort()) {
        const value = (config as Record<string, unknown>)[key];
        if (value === undefined || NOT_SNAPSHOTTED.has(key)) continue;
        lines.push(`${key}=${String(value)}`);
      }
      lines.push(`model_snapshot=${JSON.stringify(state(name))}`);
      await mkdir(this.dir, { recursive: true });
      const staging = join(this.dir, `.${name}.tmp`);
      await writeFile(staging, `${lines.join('\n')}\n`, { mode: 0o600 });
      await rename(staging, join(this.dir, name));
      await this.prune();
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async prune(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => SNAPSHOT_FILE.test(n)).sort();
    for (const old of names.slice(0, Math.max(0, names.length - SNAPSHOTS_KEPT))) await rm(join(this.dir, old), { force: true });
  }
}
