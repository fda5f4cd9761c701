import { heavyRows, HEAVY_ONNX, MNIST_ONNX, mnistPngs, ocrImages } from './fixtures.js';
import type { LimitLoadConfig, RequestSpec } from './loads/load-config.js';
import { mnistPixels } from './mnist-preprocess.js';
import type { LimitSpec, ServerId, Suite, WorkloadId } from './suite.js';
import type { WindowPlan } from './windows.js';

/** Request bodies shared by every server of a workload, so they all parse and decode the same bytes. */
export interface Payloads {
  mnist: Uint8Array[];
  heavy: Uint8Array[];
  ocr: Uint8Array[];
}

export async function loadPayloads(count: number): Promise<Payloads> {
  return { mnist: await mnistPngs(count), heavy: heavyRows(count), ocr: await ocrImages() };
}

/** The requests a load generator cycles through for one workload on one server. */
export function requestsFor(id: WorkloadId, server: ServerId, payloads: Payloads): RequestSpec[] {
  const path = server === 'bare-http' ? (id === 'stream' ? '/stream' : '/predictions/noop') : `/predictions/${id}`;
  switch (id) {
    case 'mnist':
      return payloads.mnist.map((body) => ({ path, contentType: 'image/png', body }));
    case 'heavy':
      return payloads.heavy.map((body) => ({ path, contentType: 'application/octet-stream', body }));
    case 'ocr':
      return payloads.ocr.map((body) => ({ path: '/wfpredict/ocr', contentType: 'image/png', body }));
    default:
      return [{ path, contentType: 'application/json', body: new TextEncoder().encode('{}') }];
  }
}

/** The in-process limit's load for a workload at one batch size, with the worker's thread settings. */
export function limitConfig(id: WorkloadId, spec: LimitSpec, suite: Suite, payloads: Payloads, plan: WindowPlan = suite.plan): LimitLoadConfig {
  const mnist = id === 'mnist';
  const base = {
    kind: 'limit' as const,
    modelPath: mnist ? MNIST_ONNX : HEAVY_ONNX,
    intraOpNumThreads: suite.models[id].intraOpNumThreads,
    batchSize: spec.batchSize,
    inputName: 'input',
    plan,
  };
  if (!mnist) return { ...base, input: 'tensor', payloads: payloads.heavy };
  if (spec.variant === 'decode+model') return { ...base, input: 'mnist-png', payloads: payloads.mnist };
  return {
    ...base,
    input: 'tensor',
    payloads: payloads.mnist.map((png) => {
      const pixels = mnistPixels(png);
      return new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
    }),
  };
}
