import { ArchiverError } from './archiver-error.js';

/** TorchServe's built-in Python handlers (`--handler image_classifier`): a name a migrating user may pass. */
const TORCHSERVE_BUILTINS = ['base_handler', 'image_classifier', 'image_segmenter', 'object_detector', 'text_classifier', 'text_handler', 'vision_handler', 'dali_image_classifier'];

export const HANDLER_GUIDE = 'README.md, "Writing a handler"';

/** `--handler` taken apart: a built-in name, or a file with an optional export name (`handler.ts:handle`). */
export type HandlerSpec = { kind: 'builtin'; name: string } | { kind: 'file'; file: string; exportName: string | undefined };

/**
 * Reads `--handler`: a built-in name, `path/handler.ts`, or TorchServe's `path/handler.ts:function`.
 * Python handlers and TorchServe's Python built-ins are refused with what to do instead.
 */
export function parseHandlerSpec(spec: string, builtins: readonly string[]): HandlerSpec {
  if (builtins.includes(spec)) return { kind: 'builtin', name: spec };
  if (TORCHSERVE_BUILTINS.includes(spec)) {
    throw new ArchiverError(
      `--handler ${spec} is one of TorchServe's built-in Python handlers; here a plain ONNX model needs --handler onnx_generic ` +
        `(tensors in, tensors out), and anything else a TypeScript handler (see ${HANDLER_GUIDE})`,
    );
  }
  // A colon after the first character: `C:\x` stays a path on Windows.
  const colon = spec.lastIndexOf(':');
  const [file, exportName] = colon > 1 ? [spec.slice(0, colon), spec.slice(colon + 1)] : [spec, undefined];
  if (/\.py$/i.test(file)) {
    throw new ArchiverError(`Python handlers are not supported; write the handler in TypeScript (see ${HANDLER_GUIDE}): ${spec}`);
  }
  if (exportName !== undefined && !/^[A-Za-z_$][\w$]*$/.test(exportName)) {
    throw new ArchiverError(`--handler ${spec}: "${exportName}" is not a function name (expected file.ts:functionName)`);
  }
  return { kind: 'file', file, exportName };
}
