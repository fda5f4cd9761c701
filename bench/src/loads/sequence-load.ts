/**
 * Load generator process for stateful sequences: `connections` clients, each its own sequence of
 * audio chunks, sending the next chunk once the previous one is answered, over keep-alive sockets.
 * The first chunk of each carries `ts_request_sequence_start`; every chunk names the sequence in
 * `ts_request_sequence_id`. A completion is one chunk answered.
 */
import { Agent, request } from 'node:http';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import { chunkBytes, chunkOf, speechLoop } from '../vad/audio.js';
import { WindowRecorder } from '../windows.js';
import type { SequenceLoadConfig } from './load-config.js';

async function run(config: SequenceLoadConfig): Promise<void> {
  const speech = speechLoop();
  const bytes = chunkBytes(config.chunkMs);
  const recorder = new WindowRecorder(config.plan);
  const agent = new Agent({ keepAlive: true, maxSockets: config.connections });
  const target = new URL(config.path, config.url);
  let active = 0;
  let allIdle: () => void = () => undefined;

  const client = (seq: number): void => {
    const id = `bench-${process.pid}-${seq}`;
    let k = 0;
    const loop = (): void => {
      if (recorder.stopped) {
        if (--active === 0) allIdle();
        return;
      }
      const body = chunkOf(speech, bytes, seq, k);
      const headers: Record<string, string | number> = {
        'content-type': 'application/octet-stream',
        'content-length': body.byteLength,
        ts_request_sequence_id: id,
      };
      if (k === 0) headers['ts_request_sequence_start'] = 'true';
      const started = performance.now();
      const req = request(target, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) {
            recorder.record(performance.now() - started);
            k++;
          } else {
            recorder.error();
            k = 0; // the sequence is gone (refused, expired): start a new one
          }
          loop();
        });
      });
      req.on('error', () => {
        recorder.error();
        k = 0;
        // A refused connection would otherwise spin; the pause keeps a dead target from eating the CPU.
        setTimeout(loop, 10);
      });
      req.end(body);
    };
    active++;
    loop();
  };

  const idle = new Promise<void>((resolve) => {
    allIdle = resolve;
  });
  recorder.start();
  for (let i = 0; i < config.connections; i++) client(i);
  const measurement = await recorder.done;
  await idle;
  agent.destroy();
  toParent({ type: 'result', measurement });
}

onParentMessage(async (msg: Message) => {
  if (msg.type === 'run') await run((msg as Message & { config: SequenceLoadConfig }).config);
  else if (msg.type === 'stop') process.exit(0);
});
