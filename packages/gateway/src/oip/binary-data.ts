import { ModelServerError } from '@model-server/protocol';

/**
 * Triton's binary tensor extension on the HTTP body: the JSON header comes first, its length in
 * `Inference-Header-Content-Length`, then each binary tensor's bytes back to back, in the order the
 * tensors appear in the JSON, each as long as its `binary_data_size` parameter says.
 */
export const HEADER_LENGTH_HEADER = 'inference-header-content-length';

/** The header length from the request, or undefined when the body is plain JSON. */
export function headerLength(value: string | string[] | undefined, bodyBytes: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(Array.isArray(value) ? value[0] : value);
  if (!Number.isSafeInteger(n) || n < 0 || n > bodyBytes) {
    throw new ModelServerError('INVALID_INPUT', {
      reason: `${HEADER_LENGTH_HEADER} must be an integer between 0 and the body length ${bodyBytes} (got ${String(value)})`,
    });
  }
  return n;
}

/** Hands out consecutive slices of the binary part of a body, checking that they use it exactly. */
export class BinaryCursor {
  private at = 0;

  constructor(private readonly data: Uint8Array) {}

  take(name: string, size: unknown): Uint8Array {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new ModelServerError('INVALID_INPUT', { reason: `input '${name}': binary_data_size must be a non-negative integer` });
    }
    if (this.at + size > this.data.byteLength) {
      throw new ModelServerError('INVALID_INPUT', {
        reason: `input '${name}': binary_data_size ${size} runs past the end of the body (${this.data.byteLength - this.at} bytes left)`,
      });
    }
    const slice = this.data.subarray(this.at, this.at + size);
    this.at += size;
    return slice;
  }

  /** Every byte must belong to some tensor; leftovers mean the sizes and the body disagree. */
  finish(): void {
    if (this.at !== this.data.byteLength) {
      throw new ModelServerError('INVALID_INPUT', {
        reason: `the body has ${this.data.byteLength - this.at} bytes of binary data that no input's binary_data_size accounts for`,
      });
    }
  }
}
