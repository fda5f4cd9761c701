/**
 * Names a manifest may give as `handler` instead of a file. Kept apart from the handlers themselves so
 * the gateway and the archiver can use the list without loading ONNX Runtime.
 */
export const BUILTIN_HANDLER_NAMES = ['onnx_generic'] as const;

export type BuiltinHandlerName = (typeof BUILTIN_HANDLER_NAMES)[number];

export function isBuiltinHandler(spec: string): spec is BuiltinHandlerName {
  return (BUILTIN_HANDLER_NAMES as readonly string[]).includes(spec);
}
