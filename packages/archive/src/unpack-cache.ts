import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openArchive, type OpenArchiveOptions, type OpenedArchive } from './archive.js';
import { runtimeWorkDir } from './runtime-modules.js';
import { openWorkflowArchive, type OpenedWorkflow } from './workflow-archive.js';

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

  private get options(): OpenArchiveOptions {
    return { workDir: this.dir, ...(this.maxUnpackedBytes === undefined ? {} : { maxUnpackedBytes: this.maxUnpackedBytes }) };
  }

  private use(folder: string, unpacked: boolean): void {
    if (unpacked) this.users.set(folder, (this.users.get(folder) ?? 0) + 1);
  }

  /** Opens an archive (see openArchive); pair each call with one {@link release} of its result. */
  open(path: string): Promise<OpenedArchive> {
    return this.serialized(async () => {
      const archive = await openArchive(path, this.options);
      this.use(archive.modelDir, archive.unpacked);
      return archive;
    });
  }

  /** Opens a workflow archive (see openWorkflowArchive); pair each call with one {@link releaseWorkflow}. */
  openWorkflow(path: string): Promise<OpenedWorkflow> {
    return this.serialized(async () => {
      const workflow = await openWorkflowArchive(path, this.options);
      this.use(workflow.dir, workflow.unpacked);
      return workflow;
    });
  }

  /** Gives up one use of an opened archive; its unpacked copy is removed when no version uses it. Call once its workers have stopped. */
  release(archive: OpenedArchive): Promise<void> {
    return this.serialized(() => this.releaseFolder(archive.modelDir, archive.unpacked));
  }

  /** Gives up one use of an opened workflow archive, once the workers of its function nodes have stopped. */
  releaseWorkflow(workflow: OpenedWorkflow): Promise<void> {
    return this.serialized(() => this.releaseFolder(workflow.dir, workflow.unpacked));
  }

  private async releaseFolder(folder: string, unpacked: boolean): Promise<void> {
    const left = (this.users.get(folder) ?? 0) - 1;
    if (!unpacked || left < 0) return;
    if (left > 0) {
      this.users.set(folder, left);
      return;
    }
    this.users.delete(folder);
    await rm(folder, { recursive: true, force: true });
  }

  /** Removes this process's folder and everything unpacked in it (at stop, after every worker stopped). */
  dispose(): Promise<void> {
    return this.serialized(async () => {
      this.users.clear();
      await rm(this.dir, { recursive: true, force: true });
    });
  }
}
