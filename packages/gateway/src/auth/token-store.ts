import * as crypto from 'node:crypto';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { rm, writeFile, rename } from 'node:fs/promises';
import { resolve } from 'node:path';

/** Which key a request must carry: one per API, plus TorchServe's `API` key that only regenerates the others. */
export type KeyKind = 'inference' | 'management' | 'API';

/** Random bytes per generated key; TorchServe uses 6, which a patient attacker can guess. */
const KEY_BYTES = 24;
const MS_PER_MINUTE = 60_000;

interface KeyEntry {
  key: string;
  digest: Buffer;
  /** Epoch ms after which the key is refused; Infinity for keys that never expire. */
  expiresAt: number;
}

export interface TokenStoreOptions {
  /** Where generated keys are written, mode 0600 (TorchServe's key_file.json). */
  keyFile: string;
  /** Minutes a generated inference/management key lives; 0 means forever. */
  expirationMin: number;
  /** Keys fixed by configuration (containers); they never expire and are not written to the key file. */
  inferenceKey?: string | undefined;
  managementKey?: string | undefined;
  now?: () => number;
}

/** One-shot `crypto.hash` (Node >= 20.12) is twice as fast as a Hash object; this runs on every request. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;

function digest(value: string): Buffer {
  return oneShot ? oneShot('sha256', value, 'buffer') : createHash('sha256').update(value).digest();
}

/**
 * The keys of token authorization. Keys are compared as SHA-256 digests with `timingSafeEqual`, so
 * neither the comparison time nor an early length mismatch tells an attacker how close a guess was.
 */
export class TokenStore {
  private readonly keys = new Map<KeyKind, KeyEntry>();
  private readonly now: () => number;
  private wroteFile = false;
  readonly keyFile: string;

  private constructor(private readonly options: TokenStoreOptions) {
    this.now = options.now ?? Date.now;
    this.keyFile = resolve(options.keyFile);
  }

  /** Generates the missing keys and writes the key file when any key was generated. */
  static async create(options: TokenStoreOptions): Promise<TokenStore> {
    const store = new TokenStore(options);
    const fixed: Partial<Record<KeyKind, string | undefined>> = { inference: options.inferenceKey, management: options.managementKey };
    for (const kind of ['inference', 'management', 'API'] as const) {
      const given = fixed[kind];
      if (given) store.keys.set(kind, { key: given, digest: digest(given), expiresAt: Infinity });
      else store.generate(kind);
    }
    if (!options.inferenceKey || !options.managementKey) await store.writeKeyFile();
    return store;
  }

  private generate(kind: KeyKind): void {
    const key = randomBytes(KEY_BYTES).toString('base64url');
    const ttl = kind === 'API' || this.options.expirationMin === 0 ? Infinity : this.options.expirationMin * MS_PER_MINUTE;
    this.keys.set(kind, { key, digest: digest(key), expiresAt: this.now() + ttl });
  }

  /** Whether `presented` is the current, unexpired key of `kind`. Constant time in the key's content. */
  verify(kind: KeyKind, presented: string | undefined): boolean {
    const entry = this.keys.get(kind);
    if (!entry || presented === undefined) return false;
    const match = timingSafeEqual(digest(presented), entry.digest);
    return match && this.now() <= entry.expiresAt;
  }

  /** The current key of a kind (for the CLI banner and tests; never logged). */
  key(kind: KeyKind): string {
    return this.keys.get(kind)!.key;
  }

  /** Replaces a generated key with a new one (new expiry) and rewrites the key file (`GET /token`). */
  async regenerate(kind: 'inference' | 'management'): Promise<void> {
    this.generate(kind);
    await this.writeKeyFile();
  }

  /** TorchServe's key_file.json layout, so scripts that read it keep working. */
  private async writeKeyFile(): Promise<void> {
    const entry = (kind: KeyKind): Record<string, string> => {
      const e = this.keys.get(kind)!;
      return Number.isFinite(e.expiresAt) ? { key: e.key, 'expiration time': new Date(e.expiresAt).toISOString() } : { key: e.key };
    };
    const body = { management: entry('management'), inference: entry('inference'), API: entry('API') };
    // Written beside and renamed, so a reader never sees a half-written file.
    const staging = `${this.keyFile}.${process.pid}.tmp`;
    await writeFile(staging, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    await rename(staging, this.keyFile);
    this.wroteFile = true;
  }

  /** Whether generated keys were written to `keyFile` (not when every key came from configuration). */
  get keyFileWritten(): boolean {
    return this.wroteFile;
  }

  /** Removes the key file on shutdown, as TorchServe does. */
  async dispose(): Promise<void> {
    if (this.wroteFile) await rm(this.keyFile, { force: true });
  }
}
