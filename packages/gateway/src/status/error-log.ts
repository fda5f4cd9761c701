import type { ModelServerError } from '@model-server/protocol';
import { RingBuffer } from './ring-buffer.js';
import type { ErrorEntry } from './summary-types.js';

/** Handler messages and stacks can be long; the page shows the start, the log has the rest. */
const MAX_MESSAGE_CHARS = 1_000;
const MAX_STACK_CHARS = 4_000;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The last failed requests of the whole server, for the page's error list; written only when a request fails. */
export class ErrorLog {
  private readonly entries: RingBuffer<ErrorEntry>;

  constructor(capacity: number) {
    this.entries = new RingBuffer(capacity);
  }

  record(model: string, version: string, requestId: string, error: ModelServerError, time = Date.now()): void {
    const entry: ErrorEntry = { time, model, version, requestId, status: error.status, code: error.code, message: clip(error.message, MAX_MESSAGE_CHARS) };
    if (error.workerStack) entry.stack = clip(error.workerStack, MAX_STACK_CHARS);
    this.entries.push(entry);
  }

  /** Up to `n` entries, newest first. */
  recent(n: number): ErrorEntry[] {
    const out: ErrorEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < n; i--) out.push(this.entries.at(i)!);
    return out;
  }
}
