import type { ResponsePart } from '../scheduling/job.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** A leaf's output as a JSON value: parsed when it is JSON, else its text, else base64 of its bytes. */
function asJsonValue(part: ResponsePart): unknown {
  let text: string;
  try {
    text = utf8.decode(part.body);
  } catch {
    return Buffer.from(part.body.buffer, part.body.byteOffset, part.body.byteLength).toString('base64');
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The workflow's answer (TorchServe's rule): with one leaf, that leaf's response as it is (bytes,
 * content type, status, headers); with several, a JSON object keyed by leaf, in the spec's order.
 */
export function workflowAnswer(leaves: readonly [string, ResponsePart][]): ResponsePart {
  if (leaves.length === 1) return leaves[0]![1];
  const body: Record<string, unknown> = {};
  for (const [leaf, part] of leaves) body[leaf] = asJsonValue(part);
  return { status: 200, contentType: 'application/json', headers: {}, body: encoder.encode(JSON.stringify(body)) };
}
