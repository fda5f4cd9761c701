import { ModelServerError, TENSOR_DATATYPES, splitBytesElements, type TensorDatatype } from '@model-server/protocol';

/**
 * KServe's clients send `"shape": [-1]` for a BYTES input of unknown length (TorchServe's published
 * mnist v2 request does), and its tobytes.py even a bare `-1`. One -1 dimension is solved from the data;
 * the worker always sees a concrete shape.
 */
export function resolveWildcardShape(name: string, shape: readonly number[], elements: number): number[] {
  const wild = shape.filter((d) => d === -1).length;
  if (wild === 0) return [...shape];
  if (wild > 1) throw new ModelServerError('INVALID_INPUT', { reason: `input '${name}': at most one dimension may be -1, shape is [${shape.join(',')}]` });
  const fixed = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (fixed === 0 || elements % fixed !== 0) {
    throw new ModelServerError('INVALID_INPUT', { reason: `input '${name}': ${elements} elements do not fill shape [${shape.join(',')}]` });
  }
  return shape.map((d) => (d === -1 ? elements / fixed : d));
}

/** The number of elements in a binary input's bytes (BYTES: its length-prefixed elements). */
export function binaryElementCount(datatype: TensorDatatype, data: Uint8Array): number {
  const size = TENSOR_DATATYPES[datatype];
  return size === 0 ? splitBytesElements(data).length : Math.floor(data.byteLength / size);
}
