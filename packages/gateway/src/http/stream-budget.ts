import type { ServerResponse } from 'node:http';
import { ModelServerError } from '@model-server/protocol';

/**
 * Bounds what a slow stream consumer can make the gateway hold. Writes go out immediately while the
 * transport keeps up; once it reports its buffer full, every further chunk is counted until it drains.
 * Past `limit` buffered chunks the stream overflows (STREAM_OVERFLOW), so memory per stream is bounded
 * by limit × chunk size instead of by how long the client sleeps.
 */
export class StreamBudget {
  private buffered = 0;

  constructor(
    private readonly limit: number,
    private readonly requestId: string,
  ) {}

  /** Records one write; `backedUp` is whether the transport's buffer is (still) full after it. */
  wrote(backedUp: boolean): void {
    if (!backedUp) {
      this.buffered = 0;
      return;
    }
    if (++this.buffered > this.limit) {
      throw new ModelServerError('STREAM_OVERFLOW', { limit: this.limit, requestId: this.requestId });
    }
  }

  drained(): void {
    this.buffered = 0;
  }
}

/** A budget for an HTTP response stream, reset whenever the socket drains. */
export function responseBudget(res: ServerResponse, requestId: string, limit: number): StreamBudget {
  const budget = new StreamBudget(limit, requestId);
  res.on('drain', () => budget.drained());
  return budget;
}
