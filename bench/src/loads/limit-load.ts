/**
 * The limit: the same model file, run in this process by onnxruntime-node with the worker's session
 * settings, one batch after another, no HTTP and no IPC. Throughput counts rows (inferences) per
 * second; latency is per session run.
 */
import { Tensor, openSession } from '@model-server/sdk';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import { floatsFromBytes, mnistPixels } from '../mnist-preprocess.js';
import { WindowRecorder } from '../windows.js';
import type { LimitLoadConfig } from './load-config.js';

/** Stacks `rows` float rows starting at `first` (cycling) into one [batch, rowLength] tensor. */
function stack(rows: readonly Float32Array[], first: number, batch: number): Tensor {
  const rowLength = rows[0]!.length;
  const data = new Float32Array(batch * rowLength);
  for (let i = 0; i < batch; i++) data.set(rows[(first + i) % rows.length]!, i * rowLength);
  return new Tensor('float32', data, [batch, rowLength]);
}

async function run(config: LimitLoadConfig): Promise<void> {
  const session = await openSession(config.modelPath, { intraOpNumThreads: config.intraOpNumThreads });
  const b = config.batchSize;
  // Pre-stacked batches for the model-only variant: a few distinct ones, so no cache sees one input.
  const prepared =
    config.input === 'tensor'
      ? Array.from({ length: 4 }, (_, i) => stack(config.payloads.map(floatsFromBytes), i * b, b))
      : [];
  const recorder = new WindowRecorder(config.plan);
  recorder.start();
  let n = 0;
  while (!recorder.stopped) {
    const started = performance.now();
    let input: Tensor;
    if (config.input === 'tensor') input = prepared[n % prepared.length]!;
    else {
      const rows: Float32Array[] = [];
      for (let i = 0; i < b; i++) rows.push(mnistPixels(config.payloads[(n * b + i) % config.payloads.length]!));
      input = stack(rows, 0, b);
    }
    // session.run is synchronous under its promise; the await lets the window timers fire in between.
    await session.run({ [config.inputName]: input });
    recorder.record(performance.now() - started, b);
    n++;
  }
  const measurement = await recorder.done;
  await session.release();
  toParent({ type: 'result', measurement });
}

onParentMessage(async (msg: Message) => {
  if (msg.type === 'run') await run((msg as Message & { config: LimitLoadConfig }).config);
  else if (msg.type === 'stop') process.exit(0);
});
