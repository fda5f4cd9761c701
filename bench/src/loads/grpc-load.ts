/**
 * Load generator process for gRPC workloads: `concurrency` unary calls kept in flight on one grpc-js
 * channel (one HTTP/2 connection, as perf_analyzer's shared channel), closed loop. Requests are
 * serialized once by the orchestrator and answers are not decoded, so the client spends its CPU on
 * gRPC itself, as autocannon does on HTTP.
 */
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import { WindowRecorder } from '../windows.js';
import { closedLoop, RETRY_PAUSE_MS } from './closed-loop.js';
import type { GrpcLoadConfig } from './load-config.js';

const raw = (b: Buffer): Buffer => b;

async function run(config: GrpcLoadConfig): Promise<void> {
  const recorder = new WindowRecorder(config.plan);
  // No message size limits: the server's are the ones measured.
  const client = new Client(config.address, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
  const bodies = config.requests.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength));
  let turn = 0;
  const measurement = await closedLoop(recorder, config.concurrency, (next) => {
    const body = bodies[turn++ % bodies.length]!;
    const started = performance.now();
    client.makeUnaryRequest(config.method, raw, raw, body, (err: ServiceError | null) => {
      if (err) {
        recorder.error();
        next(RETRY_PAUSE_MS);
        return;
      }
      recorder.record(performance.now() - started);
      next();
    });
  });
  client.close();
  toParent({ type: 'result', measurement });
}

onParentMessage(async (msg: Message) => {
  if (msg.type === 'run') await run((msg as Message & { config: GrpcLoadConfig }).config);
  else if (msg.type === 'stop') process.exit(0);
});
