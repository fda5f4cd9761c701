import { describe, expect, it } from 'vitest';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { GRPC_SERVICES, loadGrpcDefinitions } from '@model-server/gateway';
import { decodePredictionsRequest, encodePredictionResponse } from '../packages/gateway/dist/grpc/prediction-codec.js';

/**
 * The hand-written codecs of TorchServe's prediction messages against proto-loader's (the same .proto
 * files): the same bytes decode to the same request, and the same response decodes from both encodings.
 */
const service = loadGrpcDefinitions()[GRPC_SERVICES.torchServeInference] as ServiceDefinition;
const predictions = service['Predictions']!;

let seed = 0x5eed;
function random(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % n;
}
function randomBytes(max: number): Buffer {
  const out = Buffer.alloc(random(max), random(256));
  for (let i = 0; i < out.length; i += 1 + random(64)) out[i] = random(256);
  return out;
}
function randomText(max: number): string {
  const alphabet = ['a', 'Z', '0', '_', 'é', '日', '😀', ' '];
  return Array.from({ length: random(max) }, () => alphabet[random(alphabet.length)]).join('');
}

describe('prediction message codecs', () => {
  it('decode every PredictionsRequest as proto-loader does', () => {
    for (let i = 0; i < 500; i++) {
      const input: Record<string, Buffer> = {};
      for (let k = random(4); k > 0; k--) input[randomText(6)] = randomBytes(i % 50 === 0 ? 70_000 : 300);
      const request: Record<string, unknown> = { model_name: randomText(12), model_version: randomText(4), input };
      if (random(2)) request['sequence_id'] = randomText(10);
      const bytes = predictions.requestSerialize(request);
      const theirs = predictions.requestDeserialize(bytes) as Record<string, unknown>;
      const ours = decodePredictionsRequest(bytes);
      expect({ ...ours, sequence_id: ours.sequence_id ?? null }).toEqual({ model_name: theirs['model_name'], model_version: theirs['model_version'], input: theirs['input'], sequence_id: theirs['sequence_id'] ?? null });
    }
  });

  it('skip unknown fields of every wire type and refuse bytes that are not a message', () => {
    const known = predictions.requestSerialize({ model_name: 'm', input: { data: Buffer.from('x') } });
    // Field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32, then the known fields.
    const unknown = Buffer.from([0x48, 0x96, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 0x02, 0x61, 0x62, 0x65, 1, 2, 3, 4]);
    expect(decodePredictionsRequest(Buffer.concat([unknown, known]))).toEqual({ model_name: 'm', model_version: '', input: { data: Buffer.from('x') } });
    for (const bad of [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x0a, 0x05, 0x41], [0x00], [0x0b], [0x51, 1, 2]]) {
      expect(() => decodePredictionsRequest(Buffer.from(bad)), JSON.stringify(bad)).toThrow();
    }
  });

  it('encode PredictionResponse so that proto-loader reads what was meant', () => {
    const fallback = predictions.responseSerialize as (m: unknown) => Buffer;
    for (let i = 0; i < 300; i++) {
      const message: { prediction: Buffer; sequence_id?: string } = { prediction: randomBytes(i % 30 === 0 ? 200_000 : 500) };
      if (random(2)) message.sequence_id = randomText(10);
      const decoded = predictions.responseDeserialize(encodePredictionResponse(message, fallback)) as Record<string, unknown>;
      expect(decoded['prediction']).toEqual(message.prediction);
      expect(decoded['sequence_id']).toEqual(message.sequence_id ?? (decoded['sequence_id'] === undefined ? undefined : ''));
    }
    const withStatus = { status: { code: 3, message: 'bad', details: [] } };
    expect(encodePredictionResponse(withStatus, fallback)).toEqual(fallback(withStatus));
  });
});
