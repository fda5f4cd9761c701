/**
 * Load generator process for gRPC workloads: `concurrency` unary calls kept in flight on one grpc-js
 * channel (one HTTP/2 connection, as perf_analyzer's shared channel), closed loop. Requests are
 * serialized once by the orchestrator and answers are not decoded, so the client spends its CPU on
 * gRPC itself, as autocannon does on HTTP.
 */
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import { WindowRecorder } from '../windows.js';
import type { GrpcLoadConfig } from './load-config.js';

const raw = (b: Buffer): Buffer => b;

async function run(config: GrpcLoadConfig): Promise<void> {
  const recorder = new WindowRecorder(config.plan);
  // No message size limits: the server's are the ones measured.
  const client = new Client(config.address, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
  const bodies = config.requests.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength));
  let next = 0;
  let active = 0;
  let allIdle: () => void = () => undefined;

  const loop = (): void => {
    if (recorder.stopped) {
      if (--active === 0) allIdle();
      return;
    }
    const body = bodies[next++ % bodies.length]!;
    const started = performance.now();
    client.makeUnaryRequest(config.method, raw, raw, body, (err: ServiceError | null) => {
      if (err) {
        recorder.error();
        // A refused connection would otherwise spin; the pause keeps a dead target from eating the CPU.
        setTimeout(loop, 10);
        return;
      }
      recorder.record(performance.now() - started);
      loop();
    });
  };

  const idle = new Promise<void>((resolve) => {
    allIdle = resolve;
  });
  recorder.start();
  for (let i = 0; i < config.concurrency; i++) {
    active++;
    loop();
  }
  const measurement = await recorder.done;
  await idle;
  client.close();
  toParent({ type: 'result', measurement });
}

onParentMessage(async (msg: Message) => {
  if (msg.type === 'run') await run((msg as Message & { config: GrpcLoadConfig }).config);
  else if (msg.type === 'stop') process.exit(0);
});
