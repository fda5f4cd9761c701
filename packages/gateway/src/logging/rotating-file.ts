import { linkSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
/**
 * Lines are gathered here up to this many characters before sonic-boom sees them: a write per line
 * would be a syscall per request, and sonic-boom's own gathering measures the whole string it is
 * gathering on every write (Buffer.byteLength of a growing cons string: flattened each time), which
 * cost the access log about 15 µs per request at no-op c=32.
 */
const WRITE_BATCH_CHARS = 16_384;

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
  /** Lines not yet handed to sonic-boom. */
  private pending = '';
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly flushLater = (): void => {
    this.flushTimer = undefined;
    this.push();
  };

  constructor(
    readonly path: string,
    private readonly options: RotationOptions,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.bytes = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    this.boom = new SonicBoom({ dest: path, append: true, mkdir: true });
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
    this.pending += line;
    if (this.pending.length >= WRITE_BATCH_CHARS) this.push();
    else if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(this.flushLater, FLUSH_INTERVAL_MS);
      this.flushTimer.unref();
    }
  }

  /** Hands the gathered lines to sonic-boom (one write), and rotates once the file is full. */
  private push(): void {
    if (this.pending === '') return;
    const chunk = this.pending;
    this.pending = '';
    this.boom.write(chunk);
    this.bytes += Buffer.byteLength(chunk);
    if (this.bytes >= this.options.maxBytes && !this.rotating) this.rotate();
  }

  /**
   * A destination for pino: its lines go through write(), so they count towards rotation, and are
   * handed on at once (the server's own log is rare, and wanted soon).
   */
  get destination(): { write(line: string): void } {
    return {
      write: (line: string) => {
        this.write(line);
        this.push();
      },
    };
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
        if (this.options.maxFiles > 0) {
          try {
            linkSync(path, `${path}.1`);
          } catch {
            renameSync(path, `${path}.1`); // no hard links here: the name is missing until the next line
          }
        }
        // The empty file takes the name in one step (a rename replaces it), so the log file is never
        // missing for a reader or a log shipper between the rotation and the reopen.
        const fresh = join(dirname(path), `.${basename(path)}.new`);
        writeFileSync(fresh, '');
        renameSync(fresh, path);
        this.boom.reopen();
        this.bytes = 0;
      } finally {
        this.rotating = false;
      }
    });
  }

  /** Writes what is buffered and closes the file. */
  close(): Promise<void> {
    this.push();
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.closed = true;
    return new Promise((resolve) => {
      this.boom.once('close', () => resolve());
      this.boom.end();
    });
  }
}
