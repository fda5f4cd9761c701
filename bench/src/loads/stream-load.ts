/**
 * Load generator process for streaming workloads: `connections` clients each keep one streaming
 * request open, one after another, over keep-alive sockets. A chunk is a line, so TCP coalescing
 * several writes into one packet does not change the count. autocannon cannot see inside a response,
 * hence plain node:http here.
 */
import { Agent, request } from 'node:http';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import { WindowRecorder } from '../windows.js';
import { closedLoop, RETRY_PAUSE_MS } from './closed-loop.js';
import type { StreamLoadConfig } from './load-config.js';

const NEWLINE = 0x0a;

function countLines(chunk: Buffer): number {
  let n = 0;
  let i = chunk.indexOf(NEWLINE);
  while (i !== -1) {
    n++;
    i = chunk.indexOf(NEWLINE, i + 1);
  }
  return n;
}

async function run(config: StreamLoadConfig): Promise<void> {
  const recorder = new WindowRecorder(config.plan);
  const agent = new Agent({ keepAlive: true, maxSockets: config.connections });
  const target = new URL(config.request.path, config.url);
  const body = Buffer.from(config.request.body.buffer, config.request.body.byteOffset, config.request.body.byteLength);
  const measurement = await closedLoop(recorder, config.connections, (next) => {
    const started = performance.now();
    let ttfc: number | undefined;
    let lines = 0;
    const req = request(
      target,
      { method: 'POST', agent, headers: { 'content-type': config.request.contentType, 'content-length': body.byteLength } },
      (res) => {
        res.on('data', (chunk: Buffer) => {
          ttfc ??= performance.now() - started;
          lines += countLines(chunk);
        });
        res.on('end', () => {
          if (res.statusCode === 200) recorder.record(performance.now() - started, lines, ttfc);
          else recorder.error();
          next();
        });
        res.on('error', () => {
          recorder.error();
          next();
        });
      },
    );
    req.on('error', () => {
      recorder.error();
      next(RETRY_PAUSE_MS);
    });
    req.end(body);
  });
  agent.destroy();
  toParent({ type: 'result', measurement });
}

onParentMessage(async (msg: Message) => {
  if (msg.type === 'run') await run((msg as Message & { config: StreamLoadConfig }).config);
  else if (msg.type === 'stop') process.exit(0);
});
