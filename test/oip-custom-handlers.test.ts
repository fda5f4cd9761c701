import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { infer } from './helpers/oip-client.js';
import { expectOipSchema } from './helpers/oip-schemas.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';

const MNIST = join(ROOT, 'examples', 'mnist');
const TENSOR_ECHO = join(ROOT, 'test', 'fixtures', 'tensor-sum', 'handler.ts');

let server: TestServer;
let digitPng: Map<number, string>;

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'mnist', handler: join(MNIST, 'handler.ts'), serializedFile: join(MNIST, 'mnist.onnx'), config: 'minWorkers: 1\nbatchSize: 4\nmaxBatchDelay: 0\n' });
  // TorchServe's entry syntax, file:function.
  await buildModel(store, { name: 'tensor_echo', handler: `${TENSOR_ECHO}:handle`, config: 'minWorkers: 1\n' });
  server = await startServer({ store, models: ['mnist.mar', 'tensor_echo.mar'] });
  digitPng = new Map();
  for (let d = 0; d < 10; d++) digitPng.set(d, (await readFile(join(MNIST, 'samples', `digit-${d}.png`))).toString('base64'));
});
afterAll(async () => {
  await server?.stop();
});

/**
 * A request shaped as TorchServe publishes for KServe's mnist v2 example (kubernetes/kserve/kf_request_json/v2/mnist):
 * one BYTES input with a generated name, the PNG as base64 text, shape [-1].
 */
function kserveMnistBytesRequest(png: string): Record<string, unknown> {
  return { id: 'd3b15cad-50a2-4eaf-80ce-8b0a428bd298', inputs: [{ data: [png], datatype: 'BYTES', name: '312a4eb0-0ca7-4803-a101-a6d2c18486fe', shape: [-1] }] };
}

describe('Open Inference Protocol requests reach handlers of their own', () => {
  it("gets the digit from the mnist example for KServe's mnist v2 BYTES request, as TorchServe's envelope answers it", async () => {
    for (const [digit, png] of digitPng) {
      const r = await infer(`${server.url}/v2/models/mnist/infer`, kserveMnistBytesRequest(png));
      expect(r.status, `digit ${digit}`).toBe(200);
      expectOipSchema('inference_response', r.json);
      expect(r.json).toEqual({
        id: 'd3b15cad-50a2-4eaf-80ce-8b0a428bd298',
        model_name: 'mnist',
        model_version: '1.0',
        outputs: [{ name: 'predict', datatype: 'INT64', shape: [1], data: [digit] }],
      });
    }
  });

  it("takes tobytes.py's form too (a bare -1 shape, the base64 text without a list)", async () => {
    const r = await infer(`${server.url}/v2/models/mnist/infer`, { inputs: [{ name: 'img', shape: -1, datatype: 'BYTES', data: digitPng.get(3) }] });
    expect(r.status).toBe(200);
    expect((r.json['outputs'] as { data: number[] }[])[0]!.data).toEqual([3]);
  });

  it('gets the digit through KServe v1 :predict, from the v2 request and from the v1 instances form', async () => {
    const v2Body = await postJson(`${server.url}/v1/models/mnist:predict`, kserveMnistBytesRequest(digitPng.get(7)!));
    expect(v2Body.status).toBe(200);
    expect(v2Body.json).toEqual({ predictions: [7] });
    const v1Body = await postJson(`${server.url}/v1/models/mnist:predict`, { instances: [{ data: digitPng.get(4) }, { data: digitPng.get(2) }] });
    expect(v1Body.status).toBe(200);
    expect(v1Body.json).toEqual({ predictions: [4, 2] });
  });

  it('still checks requests naming the model\'s own inputs against its signature, and refuses what is not an image', async () => {
    const wrongShape = await infer(`${server.url}/v2/models/mnist/infer`, { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] });
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.json['error']).toMatch(/shape \[1,3\] where the model takes \[-1,784\]/);
    const notImage = await infer(`${server.url}/v2/models/mnist/infer`, { inputs: [{ name: 'img', shape: [1], datatype: 'BYTES', data: ['hello'] }] });
    expect(notImage.status).toBe(400);
    expect(notImage.json['error']).toMatch(/not a PNG or JPEG/);
  });

  it('decodes tensors for the handler (typed arrays with shape, BYTES elements as bytes) and sends back the tensors it answers', async () => {
    const r = await infer(`${server.url}/v2/models/tensor_echo/infer`, {
      inputs: [
        { name: 'c', shape: [-1], datatype: 'BYTES', data: ['ab', 'cde'] },
        { name: 'a', shape: [2, 2], datatype: 'FP32', data: [[0.5, 1.5], [2, 3]] },
        { name: 'b', shape: [1], datatype: 'INT64', data: ['40'] },
      ],
    });
    expect(r.status).toBe(200);
    expectOipSchema('inference_response', r.json);
    expect(r.json['outputs']).toEqual([
      { name: 'sum', datatype: 'FP64', shape: [1], data: [47] },
      { name: 'lengths', datatype: 'INT32', shape: [2], data: [2, 3] },
      { name: 'shapes', datatype: 'BYTES', shape: [3], data: ['c:BYTES:2', 'a:FP32:2x2', 'b:INT64:1'] },
      { name: 'payload', datatype: 'BYTES', shape: [1], data: ['ab'] },
    ]);
    // Binary outputs, as Triton's clients ask for them, carry the same tensors.
    const binary = await infer(`${server.url}/v2/models/tensor_echo/infer`, {
      inputs: [{ name: 'a', shape: [3], datatype: 'INT32', data: [1, 2, 3] }],
      outputs: [{ name: 'sum', parameters: { binary_data: true } }],
    });
    expect(binary.status).toBe(200);
    expect(binary.binary.readDoubleLE(0)).toBe(6);
  });

  it('serves the same handler on /predictions, where its requests have no tensors', async () => {
    const r = await postJson(`${server.url}/predictions/tensor_echo`, { any: 'thing' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ payloadBytes: 15 });
  });
});
