/** A small Open Inference Protocol client for tests: JSON and Triton binary-tensor requests. */

export interface InferResult {
  status: number;
  headers: Headers;
  /** The JSON part (the whole body for JSON responses). */
  json: Record<string, unknown>;
  /** The JSON part as sent, for checks that JSON.parse would hide (exact 64-bit integers). */
  jsonText: string;
  /** The bytes after the JSON header (empty for JSON responses). */
  binary: Buffer;
}

/** POSTs an inference request; `binary` tensors (in input order) follow the JSON header. */
export async function infer(url: string, request: unknown, binary: Uint8Array[] = [], headers: Record<string, string> = {}): Promise<InferResult> {
  const jsonBytes = Buffer.from(JSON.stringify(request));
  const init: RequestInit = { method: 'POST' };
  if (binary.length > 0) {
    init.body = Buffer.concat([jsonBytes, ...binary]);
    init.headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(jsonBytes.byteLength), ...headers };
  } else {
    init.body = jsonBytes;
    init.headers = { 'content-type': 'application/json', ...headers };
  }
  return readInferResponse(await fetch(url, init));
}

/** Splits a response into its JSON header and binary part using Inference-Header-Content-Length. */
export async function readInferResponse(res: Response): Promise<InferResult> {
  const body = Buffer.from(await res.arrayBuffer());
  const lengthHeader = res.headers.get('inference-header-content-length');
  const jsonLength = lengthHeader === null ? body.byteLength : Number(lengthHeader);
  const jsonText = body.subarray(0, jsonLength).toString('utf8');
  return { status: res.status, headers: res.headers, json: JSON.parse(jsonText) as Record<string, unknown>, jsonText, binary: body.subarray(jsonLength) };
}

/** The bytes of a typed array (little-endian on every platform the tests run on). */
export function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** Triton's BYTES serialization: a u32 little-endian length before each element. */
export function bytesTensor(elements: string[]): Buffer {
  return Buffer.concat(
    elements.flatMap((e) => {
      const data = Buffer.from(e);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(data.byteLength);
      return [len, data];
    }),
  );
}
