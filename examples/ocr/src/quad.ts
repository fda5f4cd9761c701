import type { Point, Quad } from './types.js';

/** Applies `f` to each corner of a quad. */
export function mapQuad(q: Quad, f: (p: Point) => Point): Quad {
  return [f(q[0]), f(q[1]), f(q[2]), f(q[3])];
}

/** Length of the edge from corner `a` to corner `b`. */
export function edge(q: Quad, a: number, b: number): number {
  return Math.hypot(q[b]![0] - q[a]![0], q[b]![1] - q[a]![1]);
}
