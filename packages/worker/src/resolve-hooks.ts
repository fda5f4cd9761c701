/**
 * Module resolution hooks, installed in the worker with `module.register`. A handler lives in the
 * model's folder, far from any node_modules, and its bundle keeps `@model-server/sdk`,
 * `onnxruntime-node` and other native packages external. A bare specifier that cannot be resolved
 * from the handler's own location is therefore resolved again from the worker's, so handlers use
 * the SDK and runtime that this server ships (one copy, one version).
 */
interface InitData {
  fallbackParentURL: string;
}

type NextResolve = (specifier: string, context: { parentURL?: string | undefined }) => Promise<{ url: string }>;

let fallbackParentURL = '';

export function initialize(data: InitData): void {
  fallbackParentURL = data.fallbackParentURL;
}

export async function resolve(
  specifier: string,
  context: { parentURL?: string | undefined },
  nextResolve: NextResolve,
): Promise<{ url: string }> {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    const bare = !specifier.startsWith('.') && !specifier.startsWith('/') && !/^[a-z]+:/i.test(specifier);
    if (!bare || !fallbackParentURL) throw err;
    return nextResolve(specifier, { ...context, parentURL: fallbackParentURL });
  }
}
