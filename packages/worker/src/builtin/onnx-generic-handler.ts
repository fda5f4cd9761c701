import { OnnxHandler, PredictionError, isTensorRequest, type Feeds, type HandlerRequest } from '@model-server/sdk';

/**
 * The built-in handler for a plain ONNX model (manifest `handler: onnx_generic`): no handler code.
 * Tensor requests (`POST /v2/models/{m}/infer`) map to session feeds by name and back, batched along
 * the first dimension, and `/explanations` attributes them with occlusion; both come from OnnxHandler.
 * Anything that is not a tensor has no meaning to it and is refused with 400.
 */
export class GenericOnnxHandler extends OnnxHandler {
  /** Every such request fails alone; tensor requests in the same batch still run. */
  override preprocess(data: HandlerRequest[]): (Feeds | Error)[] {
    const name = this.context?.modelName ?? 'this model';
    return data.map((r) =>
      isTensorRequest(r)
        ? new PredictionError(`unknown input(s) ${r.inputs.map((i) => `'${i.name}'`).join(', ')}; the model's inputs are: ${this.session.inputNames.join(', ')}`, 400)
        : new PredictionError(
            `${name} takes tensors (built-in onnx_generic handler): use POST /v2/models/${name}/infer (got ${r.inputs[0]?.contentType ?? 'no input'})`,
            400,
          ),
    );
  }
}
