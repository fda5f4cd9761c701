/**
 * Baseline: the floor HTTP parsing sets. node:http reads the body and answers a constant; on a path
 * starting with /stream it writes `streamChunks` lines, one per event-loop turn (as our gateway writes
 * each chunk when its frame arrives), then `done`.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import type { BareTargetConfig } from './target-messages.js';

const OK = Buffer.from('ok');

function stream(res: ServerResponse, chunks: number): void {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  let i = 0;
  const next = (): void => {
    if (i === chunks) {
      res.end('done\n');
      return;
    }
    res.write(`chunk ${i++}\n`);
    setImmediate(next);
  };
  next();
}

function start(config: BareTargetConfig): void {
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/stream')) return stream(res, config.streamChunks);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': OK.byteLength });
      res.end(OK);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    toParent({ type: 'ready', url: `http://127.0.0.1:${port}`, pid: process.pid });
  });
}

onParentMessage((msg: Message) => {
  if (msg.type === 'start') start((msg as Message & { config: BareTargetConfig }).config);
  else if (msg.type === 'stop') process.exit(0);
});
