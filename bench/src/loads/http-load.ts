/**
 * Load generator process for plain request/response workloads: autocannon keeps `connections`
 * requests in flight (closed loop, perf_analyzer's concurrency mode) or paces them (open loop), and
 * every answer lands in the window recorder. Runs in its own process so its CPU never shares an event
 * loop with the server it measures.
 */
import autocannon from 'autocannon';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import { WindowRecorder } from '../windows.js';
import type { HttpLoadConfig } from './load-config.js';

// Long enough for any plan: the recorder decides when to stop.
const MAX_DURATION_S = 3600;
const REQUEST_TIMEOUT_S = 30;

async function run(config: HttpLoadConfig): Promise<void> {
  const recorder = new WindowRecorder(config.plan);
  const instance = autocannon({
    url: config.url,
    connections: config.connections,
    pipelining: 1,
    duration: MAX_DURATION_S,
    timeout: REQUEST_TIMEOUT_S,
    requests: config.requests.map((r) => ({
      method: 'POST',
      path: r.path,
      headers: { 'content-type': r.contentType, ...r.headers },
      body: Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength),
    })),
    ...(config.rate !== undefined ? { overallRate: config.rate } : {}),
  });
  instance.on('response', (_client, statusCode, _bytes, ms) => {
    if (statusCode >= 200 && statusCode < 300) recorder.record(ms);
    else recorder.error();
  });
  instance.on('reqError', () => recorder.error());
  const finished = new Promise<void>((resolve) => instance.on('done', () => resolve()));
  recorder.start();
  const measurement = await recorder.done;
  instance.stop();
  await finished;
  toParent({ type: 'result', measurement });
}

onParentMessage(async (msg: Message) => {
  if (msg.type === 'run') await run((msg as Message & { config: HttpLoadConfig }).config);
  else if (msg.type === 'stop') process.exit(0);
});
