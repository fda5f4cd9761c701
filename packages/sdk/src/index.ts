export type { Context, Manifest, ResponseSettings } from './context.js';
export { sendIntermediatePredictResponse } from './context.js';
export { HandlerRequest, type RequestInput } from './request.js';
export { BaseHandler, type Handler } from './handler.js';
export { OnnxHandler, Tensor, type Feeds, type Fetches } from './onnx-handler.js';
export { openSession, readOnnxOptions, type OnnxOptions } from './onnx-session.js';
export { concatTensors, splitTensor } from './tensor-batch.js';
export { PredictionError } from './errors.js';
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
