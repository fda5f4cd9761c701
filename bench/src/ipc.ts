import { fork, type ChildProcess } from 'node:child_process';

/** Every message between the orchestrator and its child processes has a `type`. */
export interface Message {
  type: string;
}

const STOP_TIMEOUT_MS = 10_000;

/**
 * A child process of the suite (a load generator, a server under test, the in-process limit), driven
 * over Node's IPC channel with structured-clone serialization so Buffers (request bodies) pass as is.
 */
export class Child {
  private readonly waiters = new Set<{ type: string; resolve: (m: Message) => void; reject: (e: Error) => void }>();
  private exitError: Error | undefined;
  readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    proc.on('message', (raw) => {
      const msg = raw as Message;
      for (const w of this.waiters) {
        if (w.type === msg.type || msg.type === 'failed') {
          this.waiters.delete(w);
          if (msg.type === 'failed') w.reject(new Error(`${name}: ${(msg as Message & { message: string }).message}`));
          else w.resolve(msg);
        }
      }
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exitError = new Error(`${name} exited (${signal ?? `code ${code}`})`);
        for (const w of this.waiters) w.reject(this.exitError);
        this.waiters.clear();
        resolve();
      });
    });
  }

  static fork(name: string, script: string, options: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}): Child {
    const proc = fork(script, [], {
      serialization: 'advanced',
      execArgv: options.execArgv ?? [],
      env: options.env ?? process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Child(name, proc);
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  send(message: Message): void {
    this.proc.send(message);
  }

  /** The next message of `type`; rejects on a `failed` message, on exit, or after `timeoutMs`. */
  next<T extends Message>(type: T['type'], timeoutMs: number): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        type,
        resolve: (m: Message) => {
          clearTimeout(timer);
          resolve(m as T);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Sends a request and waits for its answer. */
  request<T extends Message>(message: Message, answer: T['type'], timeoutMs: number): Promise<T> {
    const reply = this.next<T>(answer, timeoutMs);
    this.send(message);
    return reply;
  }

  /** Asks the child to stop, then kills it if it lingers. */
  async stop(): Promise<void> {
    if (this.exitError) return;
    if (this.proc.connected) this.proc.send({ type: 'stop' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Child side: handles each message from the orchestrator; exits when the orchestrator goes away. */
export function onParentMessage(handler: (message: Message) => void | Promise<void>): void {
  process.on('message', (raw) => {
    Promise.resolve(handler(raw as Message)).catch((err: unknown) => {
      toParent({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    });
  });
  process.on('disconnect', () => process.exit(0));
}

export function toParent(message: Message & Record<string, unknown>): void {
  process.send?.(message);
}
