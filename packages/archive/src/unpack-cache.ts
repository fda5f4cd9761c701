import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openArchive, type OpenedArchive } from './archive.js';
import { runtimeWorkDir } from './runtime-modules.js';

/**
 * The unpacked archives of one gateway process. Each process unpacks into a folder of its own under
 * the installation's work dir (runtimeWorkDir, whose `node_modules` link its handlers still find), so
 * servers sharing the OS temp dir never remove what another one unpacked. Within the process, versions
 * opened from the same archive content share one unpacked copy, removed once the last of them is
 * released; {@link dispose} removes the whole folder. Opening and releasing run one at a time, so a
 * copy is never removed while another registration is about to use it.
 */
export class UnpackCache {
  /** Unpacked folder -> versions using it. */
  private readonly users = new Map<string, number>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    /** This process's folder. */
    readonly dir: string,
    private readonly maxUnpackedBytes: number | undefined,
  ) {}

  /** Makes this process's folder under `base` (`model_work_dir`). */
  static async create(base: string, maxUnpackedBytes?: number): Promise<UnpackCache> {
    const root = await runtimeWorkDir(base);
    return new UnpackCache(await mkdtemp(join(root, `server-${process.pid}-`)), maxUnpackedBytes);
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Opens an archive (see openArchive); pair each call with one {@link release} of its result. */
  open(path: string): Promise<OpenedArchive> {
    return this.serialized(async () => {
      const archive = await openArchive(path, { workDir: this.dir, ...(this.maxUnpackedBytes === undefined ? {} : { maxUnpackedBytes: this.maxUnpackedBytes }) });
      if (archive.unpacked) this.users.set(archive.modelDir, (this.users.get(archive.modelDir) ?? 0) + 1);
      return archive;
    });
  }

  /** Gives up one use of an opened archive; its unpacked copy is removed when no version uses it. Call once its workers have stopped. */
  release(archive: OpenedArchive): Promise<void> {
    return this.serialized(async () => {
      const left = (this.users.get(archive.modelDir) ?? 0) - 1;
      if (!archive.unpacked || left < 0) return;
      if (left > 0) {
        this.users.set(archive.modelDir, left);
        return;
      }
      this.users.delete(archive.modelDir);
      await rm(archive.modelDir, { recursive: true, force: true });
    });
  }

  /** Removes this process's folder and everything unpacked in it (at stop, after every worker stopped). */
  dispose(): Promise<void> {
    return this.serialized(async () => {
      this.users.clear();
      await rm(this.dir, { recursive: true, force: true });
    });
  }
}
