import type { RotatedRect } from './rotated-rect.js';

/**
 * DB's unclip: the detector is trained on text regions shrunk by `D = A·(1 − r²)/L`, so a found region
 * is grown back by `D' = A·ratio/L` (A its area, L its perimeter). Offsetting a rectangle outwards
 * by D' with rounded corners and taking the smallest rectangle around the result is the same as
 * adding D' to each side, which is what this does.
 */
export function unclip(rect: RotatedRect, ratio: number): RotatedRect {
  const perimeter = 2 * (rect.width + rect.height);
  if (perimeter === 0) return rect;
  const distance = (rect.width * rect.height * ratio) / perimeter;
  return { ...rect, width: rect.width + 2 * distance, height: rect.height + 2 * distance };
}
