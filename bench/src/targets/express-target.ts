/**
 * Baseline "what a Node user writes instead": express, one InferenceSession with the worker's thread
 * settings, and each request run as it comes, preprocessing exactly as our handlers do. No batching,
 * no worker process.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Tensor, openSession } from '@model-server/sdk';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import { argmax, floatsFromBytes, MNIST_PIXELS, mnistPixels } from '../mnist-preprocess.js';
import type { ExpressTargetConfig } from './target-messages.js';

async function start(config: ExpressTargetConfig): Promise<void> {
  const app = express();
  const raw = express.raw({ type: () => true, limit: '6mb' });
  if (config.model === 'noop') {
    app.post('/predictions/:model', raw, (_req, res) => {
      res.type('text/plain').send('ok');
    });
  } else {
    if (!config.modelPath) throw new Error('modelPath is required');
    const session = await openSession(config.modelPath, { intraOpNumThreads: config.intraOpNumThreads });
    const input = session.inputNames[0]!;
    const output = session.outputNames[0]!;
    app.post('/predictions/:model', raw, async (req, res) => {
      const body = req.body as Buffer;
      if (config.model === 'mnist') {
        const feeds = { [input]: new Tensor('float32', mnistPixels(body), [1, MNIST_PIXELS]) };
        const out = await session.run(feeds);
        res.json(argmax(out[output]!.data as Float32Array));
      } else {
        const values = floatsFromBytes(body);
        const out = await session.run({ [input]: new Tensor('float32', values, [1, values.length]) });
        const data = out[output]!.data as Float32Array;
        res.type('application/octet-stream').send(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      }
    });
  }
  const server = app.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    toParent({ type: 'ready', url: `http://127.0.0.1:${port}`, pid: process.pid });
  });
  server.keepAliveTimeout = 65_000;
}

onParentMessage(async (msg: Message) => {
  if (msg.type === 'start') await start((msg as Message & { config: ExpressTargetConfig }).config);
  else if (msg.type === 'stop') process.exit(0);
});
