import { ServerResponse } from 'node:http';

type WriteHead = (this: ServerResponse, statusCode: number, reasonOrHeaders?: unknown, headers?: unknown) => ServerResponse;

/**
 * From the moment a drain begins, every response whose headers are not out yet closes its connection,
 * the ones already under way included. Whether a response keeps its connection is decided when its
 * headers are written; a request that arrived before the drain would otherwise answer
 * `Connection: keep-alive`, and its client would send its next request to the draining server (to be
 * refused with 503) instead of reconnecting to another replica (measured: all 16 answers in flight at
 * SIGTERM kept their connections alive).
 *
 * The decision sits in `writeHead`, which every response passes through (`end()` without it calls
 * it): on the ServerResponse class node lets a server choose, and on each express app's response
 * prototype. Nothing runs per request. Keeping the open responses in a Set instead (every request
 * entering and leaving it) made V8 promote every request's objects to the old generation: 10 to 14
 * times the mark-compacts, gateway CPU per request at no-op c=32 up by a third and p99 from 4 to 11 ms
 * (docs/benchmarks.md, "A Set on the hot path").
 */
export class ClosingResponses {
  /** Shared with the `writeHead` below, which runs with the response as `this`. */
  private readonly drain = { closing: false };
  /** The response class for the listeners' `createServer({ ServerResponse })`. */
  readonly ServerResponse: typeof ServerResponse;
  private readonly writeHead: WriteHead;

  constructor() {
    const drain = this.drain;
    const writeHead = ServerResponse.prototype.writeHead as WriteHead;
    this.writeHead = function (this: ServerResponse, statusCode, reasonOrHeaders, headers) {
      if (drain.closing) this.shouldKeepAlive = false;
      return writeHead.call(this, statusCode, reasonOrHeaders, headers);
    };
    class DrainAwareResponse extends ServerResponse {}
    (DrainAwareResponse.prototype as { writeHead: WriteHead }).writeHead = this.writeHead;
    // node constructs it with the request only, as it does ServerResponse itself.
    this.ServerResponse = DrainAwareResponse as typeof ServerResponse;
  }

  /**
   * Express gives its responses a prototype of its own (`app.response`, over express's methods over
   * node's ServerResponse.prototype), which skips the class above: the app's prototype gets the same
   * `writeHead`.
   */
  adopt<App extends { response: object }>(app: App): App {
    (app.response as { writeHead: WriteHead }).writeHead = this.writeHead;
    return app;
  }

  /** From now on every response closes its connection. */
  closeConnections(): void {
    this.drain.closing = true;
  }
}
