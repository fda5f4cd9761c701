import { ModelServerError } from '@model-server/protocol';

/**
 * Deepest nesting of arrays and objects taken in a client's JSON. JSON.parse itself takes any depth,
 * but every recursive walk after it (JSON.stringify, flattening tensor data) overflows the stack at a
 * few thousand levels, which would answer a client's mistake with a 500. No real request nests deeper.
 */
export const MAX_JSON_DEPTH = 100;

/** Throws INVALID_INPUT when `value` nests deeper than `max`; iterative, so any depth is safe to check. */
export function assertJsonDepth(value: unknown, where: string, max = MAX_JSON_DEPTH): void {
  if (typeof value !== 'object' || value === null) return;
  const stack: { v: object; depth: number }[] = [{ v: value, depth: 1 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (depth > max) throw new ModelServerError('INVALID_INPUT', { reason: `${where} nests arrays or objects deeper than ${max} levels` });
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const c of children) if (typeof c === 'object' && c !== null) stack.push({ v: c as object, depth: depth + 1 });
  }
}
