import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StatusSampler, StatusWatcher } from '../status/status-sampler.js';

/** A stream this far behind (a stalled tab) is closed; the page reconnects and starts from a full summary. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** The browser waits this long before reconnecting a stream that ended. */
const RETRY_MS = 2_000;

/**
 * `GET /status/events`: Server-Sent Events, one `full` summary first, then one `tick` per sample.
 * The key the stream was opened with is checked again before every event, so a key that expires or is
 * regenerated ends the streams opened with it.
 */
export async function openStatusStream(sampler: StatusSampler, req: IncomingMessage, res: ServerResponse, stillAuthorized: () => boolean): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // Proxies that buffer (nginx) would hold the ticks back.
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${RETRY_MS}\n\n`);
  const watcher: StatusWatcher = {
    send: (text) => {
      if (res.destroyed || res.writableEnded) return false;
      if (!stillAuthorized() || res.writableLength > MAX_BUFFERED_BYTES) {
        res.end();
        return false;
      }
      res.write(text);
      return true;
    },
    close: () => res.end(),
  };
  req.socket.setNoDelay(true);
  res.on('close', () => sampler.unsubscribe(watcher));
  await sampler.subscribe(watcher);
}
