export type { Context, Manifest, ResponseSettings } from './context.js';
export type { SequenceEndReason } from '@model-server/protocol';
export { flagValue } from '@model-server/protocol/wire';
export { sendIntermediatePredictResponse } from './context.js';
export { HandlerRequest, type RequestInput } from './request.js';
export { type RequestTensor, type TensorData } from './request-tensor.js';
export { tensorResponse, type OutputTensor } from './tensor-response.js';
export { imageBytes } from './image-bytes.js';
export { BaseHandler, type Handler } from './handler.js';
export { OnnxHandler, TENSOR_RUNS_METRIC, Tensor, type Feeds, type Fetches } from './onnx-handler.js';
export { openSession, readOnnxOptions, type OnnxOptions } from './onnx-session.js';
export { concatTensors, runStacked, splitTensor } from './tensor-batch.js';
export { PredictionError } from './errors.js';
export { asPredictionError, mapRequests, mapRequestsAsync, runWithoutFailed } from './per-request.js';
export { MetricsRecorder, type RecordedMetric } from './metrics.js';
export {
  decodeImage,
  imageSize,
  imageToTensor,
  imageToTensorSync,
  SHARP_MIN_PIXELS,
  type RgbaImage,
  type TensorImageOptions,
} from './image.js';
export { SubsetContext } from './subset-context.js';
export {
  ORT_TYPE_BY_DATATYPE,
  datatypeOf,
  fromOrtTensor,
  isTensorInput,
  isTensorRequest,
  requestedOutputs,
  tensorFeeds,
  toOrtTensor,
} from './tensor-codec.js';
export { ONNX_PLATFORM, sessionMetadata } from './onnx-metadata.js';
export { runTensorJobs, type TensorJob, type TensorJobResult, type TensorRunReport } from './onnx-tensor-path.js';
export { occlusion, nest, type OcclusionOptions, type OcclusionResult, type ScoreFn, type FeatureArray } from './explain/occlusion.js';
export { readExplainConfig, resolveWindows, type ExplainConfig } from './explain/explain-config.js';
export { explainFeeds, type Explanation } from './explain/onnx-explain.js';
export { allAborted } from './abort.js';
