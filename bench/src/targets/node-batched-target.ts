/**
 * Baseline "the best a single Node process can do" for the heavy model: node:http (no framework), one
 * InferenceSession with the worker's thread settings, and dynamic batching in process: requests whose
 * bodies completed in one event-loop turn run as one batch of up to `batchSize`, no IPC, no copies
 * beyond stacking. ORT runs on the JS thread, so HTTP parsing and inference take turns on one core:
 * this is what splitting them across processes (our gateway and worker) is meant to beat.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Tensor, openSession } from '@model-server/sdk';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import type { NodeBatchedTargetConfig } from './target-messages.js';

interface Pending {
  body: Buffer;
  res: ServerResponse;
}

async function start(config: NodeBatchedTargetConfig): Promise<void> {
  const session = await openSession(config.modelPath, { intraOpNumThreads: config.intraOpNumThreads });
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  const queue: Pending[] = [];
  let running = false;
  let scheduled = false;

  const schedule = (): void => {
    if (scheduled || running || queue.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void runBatch();
    });
  };

  const runBatch = async (): Promise<void> => {
    running = true;
    const batch = queue.splice(0, config.batchSize);
    const features = batch[0]!.body.byteLength / 4;
    const stacked = new Float32Array(batch.length * features);
    const bytes = new Uint8Array(stacked.buffer);
    batch.forEach((p, i) => bytes.set(p.body, i * features * 4));
    try {
      const out = await session.run({ [input]: new Tensor('float32', stacked, [batch.length, features]) });
      const data = out[output]!.data as Float32Array;
      const width = data.length / batch.length;
      batch.forEach((p, i) => {
        const row = Buffer.from(data.buffer, data.byteOffset + i * width * 4, width * 4);
        p.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': row.byteLength });
        p.res.end(row);
      });
    } catch (err) {
      for (const p of batch) p.res.writeHead(500).end(String(err));
    }
    running = false;
    schedule();
  };

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      queue.push({ body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), res });
      schedule();
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    toParent({ type: 'ready', url: `http://127.0.0.1:${port}`, pid: process.pid });
  });
}

onParentMessage(async (msg: Message) => {
  if (msg.type === 'start') await start((msg as Message & { config: NodeBatchedTargetConfig }).config);
  else if (msg.type === 'stop') process.exit(0);
});
