/**
 * The VAD's limit: the vad example's handler in this process, driven as its worker would be by
 * `sequences` concurrent sequences, one chunk of each per batch (their frames one ONNX batch per
 * step), no HTTP and no IPC. A completion is one batch; its units are the chunks it carried.
 */
import { onParentMessage, toParent, type Message } from '../ipc.js';
import { chunkBytes, chunkOf, speechLoop } from '../vad/audio.js';
import { VadBenchContext, loadVadHandler, vadRequest } from '../vad/in-process.js';
import { WindowRecorder } from '../windows.js';
import type { VadLimitLoadConfig } from './load-config.js';

async function run(config: VadLimitLoadConfig): Promise<void> {
  const speech = speechLoop();
  const bytes = chunkBytes(config.chunkMs);
  const Handler = await loadVadHandler();
  const handler = new Handler();
  const context = new VadBenchContext({ minSilenceMs: 300 }, config.sequences);
  await handler.initialize?.(context);
  const recorder = new WindowRecorder(config.plan);
  recorder.start();
  for (let k = 0; !recorder.stopped; k++) {
    const requests = Array.from({ length: config.sequences }, (_, s) => vadRequest(s, chunkOf(speech, bytes, s, k), k === 0));
    const started = performance.now();
    context.begin(requests);
    await handler.handle(requests, context);
    if (context.statuses().some((s) => s !== 200)) throw new Error(`a chunk failed in process: ${context.statuses().join(',')}`);
    recorder.record(performance.now() - started, config.sequences);
  }
  const measurement = await recorder.done;
  await handler.close?.();
  toParent({ type: 'result', measurement });
}

onParentMessage(async (msg: Message) => {
  if (msg.type === 'run') await run((msg as Message & { config: VadLimitLoadConfig }).config);
  else if (msg.type === 'stop') process.exit(0);
});
