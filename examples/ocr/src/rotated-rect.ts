import type { Point, Quad } from './types.js';

/**
 * A rectangle at an angle: `width` runs along the direction `angle` (radians, image coordinates, so a
 * positive angle turns clockwise on screen), `height` across it. Canonical form keeps the width axis
 * the one nearer the horizontal: angle in [-π/4, π/4).
 */
export interface RotatedRect {
  readonly center: Point;
  readonly width: number;
  readonly height: number;
  readonly angle: number;
}

const QUARTER = Math.PI / 2;

/** The same rectangle with its angle brought into [-π/4, π/4), swapping the sides where needed. */
export function canonicalRect(rect: RotatedRect): RotatedRect {
  let { width, height, angle } = rect;
  // Every quarter turn swaps which side runs along the angle.
  const turns = Math.round(angle / QUARTER);
  angle -= turns * QUARTER;
  if (angle >= Math.PI / 4) {
    angle -= QUARTER;
    [width, height] = [height, width];
  }
  if (turns % 2 !== 0) [width, height] = [height, width];
  return { center: rect.center, width, height, angle };
}

/** The corners of a rectangle in reading order (top-left, top-right, bottom-right, bottom-left). */
export function rectCorners(rect: RotatedRect): Quad {
  const { center, width, height, angle } = canonicalRect(rect);
  const ux = Math.cos(angle) * (width / 2);
  const uy = Math.sin(angle) * (width / 2);
  // Across the line, pointing down the page.
  const vx = -Math.sin(angle) * (height / 2);
  const vy = Math.cos(angle) * (height / 2);
  const [cx, cy] = center;
  return [
    [cx - ux - vx, cy - uy - vy],
    [cx + ux - vx, cy + uy - vy],
    [cx + ux + vx, cy + uy + vy],
    [cx - ux + vx, cy - uy + vy],
  ];
}
