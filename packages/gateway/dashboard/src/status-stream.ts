import type { StatusSummary } from '../../src/status/summary-types.js';
import { authHeaders } from './key-store.js';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

export interface StreamHandlers {
  onSummary(kind: 'full' | 'tick', summary: StatusSummary): void;
  onState(state: StreamState, detail?: string): void;
}

/** Relative to the page (`/dashboard/`), so a path prefix added by a proxy is kept. */
const EVENTS_URL = '../status/events';
const RETRY_MS = 2_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The live feed: `GET /status/events` read with fetch rather than EventSource, because EventSource
 * cannot send an Authorization header. The body is parsed as Server-Sent Events here. A stream that
 * ends (server restart, key regenerated) is reopened; a 401 stops until `restart` (a new key).
 */
export class StatusStream {
  private controller: AbortController | undefined;
  private generation = 0;

  constructor(private readonly handlers: StreamHandlers) {}

  /** (Re)opens the stream, dropping the current one. */
  restart(): void {
    this.controller?.abort();
    const generation = ++this.generation;
    void this.run(generation);
  }

  private async run(generation: number): Promise<void> {
    let first = true;
    while (generation === this.generation) {
      this.handlers.onState(first ? 'connecting' : 'reconnecting');
      first = false;
      const controller = new AbortController();
      this.controller = controller;
      try {
        const res = await fetch(EVENTS_URL, { headers: authHeaders(), cache: 'no-store', signal: controller.signal });
        if (res.status === 401) {
          this.handlers.onState('unauthorized');
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        this.handlers.onState('live');
        await this.read(res.body);
      } catch {
        if (controller.signal.aborted) return;
      }
      if (generation !== this.generation) return;
      this.handlers.onState('reconnecting');
      await sleep(RETRY_MS);
    }
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        this.dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  private dispatch(block: string): void {
    let name = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if ((name !== 'full' && name !== 'tick') || data.length === 0) return;
    this.handlers.onSummary(name, JSON.parse(data.join('\n')) as StatusSummary);
  }
}
