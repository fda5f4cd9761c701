import { z } from 'zod';

/** One input or output of a model: Open Inference Protocol datatype, shape with -1 for a dynamic dimension. */
export const tensorMetadataSchema = z.object({
  name: z.string(),
  datatype: z.string(),
  shape: z.array(z.number().int().min(-1)),
});

/**
 * What a loaded model says about itself, reported by the worker in its `ready` message (for ONNX
 * models, read from the ONNX Runtime session) and served by `GET /v2/models/{m}`.
 */
export const modelMetadataSchema = z.object({
  /** `<runtime>_<format>`, e.g. `onnxruntime_onnx` as Triton reports ONNX models. */
  platform: z.string(),
  inputs: z.array(tensorMetadataSchema),
  outputs: z.array(tensorMetadataSchema),
});

export type TensorMetadata = z.infer<typeof tensorMetadataSchema>;
export type ModelMetadata = z.infer<typeof modelMetadataSchema>;
