import { GRPC_SERVICES, loadGrpcDefinitions } from '@model-server/gateway';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { heavyRows, HEAVY_ONNX, MNIST_ONNX, mnistPngs, ocrImages } from './fixtures.js';
import type { LimitLoadConfig, RequestSpec, VadLimitLoadConfig } from './loads/load-config.js';
import { mnistPixels } from './mnist-preprocess.js';
import type { LimitSpec, ServerId, Suite, WorkloadId } from './suite.js';
import type { WindowPlan } from './windows.js';

/** Request bodies shared by every server of a workload, so they all parse and decode the same bytes. */
export interface Payloads {
  mnist: Uint8Array[];
  heavy: Uint8Array[];
  /** The mnist PNGs as the handler's preprocessing makes them: 784 float32, little-endian. */
  mnistTensors: Uint8Array[];
  /** The OCR workflow's images (the sample invoice). */
  ocr: Uint8Array[];
}

function pixelBytes(png: Uint8Array): Uint8Array {
  const pixels = mnistPixels(png);
  return new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
}

export async function loadPayloads(count: number): Promise<Payloads> {
  const mnist = await mnistPngs(count);
  return { mnist, heavy: heavyRows(count), mnistTensors: mnist.map(pixelBytes), ocr: await ocrImages() };
}

/** The Open Inference Protocol's binary form: the JSON header, then the tensor, answered as binary too. */
function v2BinaryInfer(tensor: Uint8Array): RequestSpec {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], parameters: { binary_data_size: tensor.byteLength } }],
      parameters: { binary_data_output: true },
    }),
  );
  return {
    path: '/v2/models/mnist-tensor/infer',
    contentType: 'application/octet-stream',
    headers: { 'inference-header-content-length': String(header.byteLength) },
    body: Buffer.concat([header, tensor]),
  };
}

/** The requests a load generator cycles through for one workload on one server. */
export function requestsFor(id: WorkloadId, server: ServerId, payloads: Payloads): RequestSpec[] {
  const path = server === 'bare-http' ? (id === 'stream' ? '/stream' : '/predictions/noop') : `/predictions/${id}`;
  switch (id) {
    case 'mnist':
      return payloads.mnist.map((body) => ({ path, contentType: 'image/png', body }));
    case 'heavy':
      return payloads.heavy.map((body) => ({ path, contentType: 'application/octet-stream', body }));
    case 'mnist-tensor':
      return payloads.mnistTensors.map(v2BinaryInfer);
    case 'ocr':
      return payloads.ocr.map((body) => ({ path: '/wfpredict/ocr', contentType: 'image/png', body }));
    default:
      return [{ path, contentType: 'application/json', body: new TextEncoder().encode('{}') }];
  }
}

/** The in-process limit's load for a workload at one batch size, with the worker's thread settings. */
export function limitConfig(id: WorkloadId, spec: LimitSpec, suite: Suite, payloads: Payloads, plan: WindowPlan = suite.plan): LimitLoadConfig | VadLimitLoadConfig {
  if (id === 'vad') return { kind: 'vad-limit', sequences: spec.batchSize, chunkMs: suite.vadChunkMs, plan };
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
  return { ...base, input: 'tensor', payloads: payloads.mnistTensors };
}

/** The gRPC counterpart of `requestsFor`: one method and its requests, serialized with the server's .proto files. */
export interface GrpcRequests {
  method: string;
  requests: Uint8Array[];
}

let definitions: ReturnType<typeof loadGrpcDefinitions> | undefined;

function serializer(service: string, rpc: string): { path: string; serialize: (value: unknown) => Buffer } {
  definitions ??= loadGrpcDefinitions();
  const method = (definitions[service] as ServiceDefinition)[rpc]!;
  return { path: method.path, serialize: method.requestSerialize };
}

/**
 * The same workloads over gRPC: TorchServe's Predictions with the HTTP body as input `data` (noop,
 * heavy, mnist PNGs), ModelInfer with the tensor as raw_input_contents (mnist-tensor, as tritonclient
 * sends it).
 */
export function grpcRequestsFor(id: WorkloadId, payloads: Payloads): GrpcRequests {
  if (id === 'mnist-tensor') {
    const { path, serialize } = serializer(GRPC_SERVICES.openInference, 'ModelInfer');
    return {
      method: path,
      requests: payloads.mnistTensors.map((tensor) =>
        serialize({ model_name: id, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784] }], raw_input_contents: [tensor] }),
      ),
    };
  }
  const { path, serialize } = serializer(GRPC_SERVICES.torchServeInference, 'Predictions');
  return { method: path, requests: requestsFor(id, 'ours', payloads).map((r) => serialize({ model_name: id, input: { data: r.body } })) };
}
