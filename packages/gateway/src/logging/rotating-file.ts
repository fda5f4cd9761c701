import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import type { SonicBoom as Boom } from 'sonic-boom';

// sonic-boom is CommonJS whose types declare a named class its runtime only has as the export itself.
const SonicBoom = createRequire(import.meta.url)('sonic-boom') as typeof Boom;

export interface RotationOptions {
  /** A file past this size is rotated: `f` becomes `f.1`, `f.1` becomes `f.2`, … */
  maxBytes: number;
  /** Rotated files kept besides the current one; older ones are removed. */
  maxFiles: number;
}

/** How long a line may wait in memory before it is written: low traffic still reaches the file soon. */
const FLUSH_INTERVAL_MS = 1_000;
/** Lines are gathered up to this many bytes per write (a write per line would be a syscall per request). */
const WRITE_BATCH_BYTES = 4096;

/**
 * An append-only log file written asynchronously in batches (sonic-boom, pino's writer), rotated by
 * size. Rotation renames the file and its older copies and reopens the name, so `tail -F` and log
 * shippers follow it as they do logrotate's files.
 */
export class RotatingFile {
  private readonly boom: Boom;
  private bytes: number;
  private rotating = false;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly options: RotationOptions,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.bytes = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    this.boom = new SonicBoom({ dest: path, append: true, mkdir: true, minLength: WRITE_BATCH_BYTES, periodicFlush: FLUSH_INTERVAL_MS });
    // A full disk or a removed folder must not end the server: the log line is lost, loudly once.
    let warned = false;
    this.boom.on('error', (err: Error) => {
      if (warned) return;
      warned = true;
      process.stderr.write(`model-server: cannot write ${path}: ${err.message}\n`);
    });
  }

  /** Appends a line; after close (a response that ends during shutdown) it is dropped. */
  write(line: string): void {
    if (this.closed) return;
    this.boom.write(line);
    this.bytes += Buffer.byteLength(line);
    if (this.bytes >= this.options.maxBytes && !this.rotating) this.rotate();
  }

  /** A destination for pino: its lines go through write(), so they count towards rotation. */
  get destination(): { write(line: string): void } {
    return { write: (line: string) => this.write(line) };
  }

  private rotate(): void {
    this.rotating = true;
    this.boom.flush(() => {
      try {
        const { path } = this;
        rmSync(`${path}.${this.options.maxFiles}`, { force: true });
        for (let i = this.options.maxFiles - 1; i >= 1; i--) {
          try {
            renameSync(`${path}.${i}`, `${path}.${i + 1}`);
          } catch {
            // that generation does not exist yet
          }
        }
        if (this.options.maxFiles > 0) renameSync(path, `${path}.1`);
        else rmSync(path, { force: true });
        this.boom.reopen();
        this.bytes = 0;
      } finally {
        this.rotating = false;
      }
    });
  }

  /** Writes what is buffered and closes the file. */
  close(): Promise<void> {
    this.closed = true;
    return new Promise((resolve) => {
      this.boom.once('close', () => resolve());
      this.boom.end();
    });
  }
}
