/** A point in image coordinates: x to the right, y down, in pixels (pixel centres at integers). */
export type Point = readonly [x: number, y: number];

/**
 * A text box as four corners in reading direction: top-left, top-right, bottom-right, bottom-left
 * of the line as it is read (for a line set at an angle, "top" follows the line, not the image).
 */
export type Quad = readonly [Point, Point, Point, Point];

/** Interleaved 8-bit RGB pixels, row by row (3 bytes per pixel, no padding). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** A detected text line: its box in the source image's coordinates and the detector's score. */
export interface TextBox {
  readonly box: Quad;
  /** Mean text probability inside the box, before unclipping (0..1). */
  readonly score: number;
}

/** A recognised line, as the OCR answers it. */
export interface OcrLine {
  readonly text: string;
  /** Mean of the per-character probabilities the recogniser chose (0..1). */
  readonly confidence: number;
  readonly box: Quad;
}
