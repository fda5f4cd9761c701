/**
 * The OCR pipeline in one process, the baseline of the OCR workflow: examples/ocr's OcrPipeline (the
 * nodes' own functions and model-config.yaml settings, the two sessions opened as the workers open
 * them) run on `connections` images at a time in this process, no HTTP and no IPC. Latency is per
 * image, as a client of the server would see it.
 */
import { OcrPipeline } from '@model-server/example-ocr';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import { WindowRecorder } from '../windows.js';
import type { PipelineLoadConfig } from './load-config.js';

async function run(config: PipelineLoadConfig): Promise<void> {
  const pipeline = await OcrPipeline.create();
  const recorder = new WindowRecorder(config.plan);
  let next = 0;
  recorder.start();
  const loops = Array.from({ length: config.connections }, async () => {
    while (!recorder.stopped) {
      const image = config.images[next++ % config.images.length]!;
      const started = performance.now();
      try {
        await pipeline.run(image);
        recorder.record(performance.now() - started);
      } catch {
        recorder.error();
      }
    }
  });
  const measurement = await recorder.done;
  await Promise.all(loops);
  await pipeline.close();
  toParent({ type: 'result', measurement });
}

onParentMessage(async (msg: Message) => {
  if (msg.type === 'run') await run((msg as Message & { config: PipelineLoadConfig }).config);
  else if (msg.type === 'stop') process.exit(0);
});
