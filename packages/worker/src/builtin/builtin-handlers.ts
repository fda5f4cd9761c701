import type { Handler } from '@model-server/sdk';
import type { BuiltinHandlerName } from '@model-server/archive/names';
import { GenericOnnxHandler } from './onnx-generic-handler.js';

/** A fresh instance of each built-in handler, by the name a manifest gives. */
export const BUILTIN_HANDLERS: Readonly<Record<BuiltinHandlerName, () => Handler>> = Object.freeze({
  onnx_generic: () => new GenericOnnxHandler(),
});
