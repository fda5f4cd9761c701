// Types for mnist-split.mjs, so strict TypeScript tests can import it.

export declare const IMAGE_SIZE: 28;
export declare const PIXELS: 784;
/** Sample i of each digit is held out when i % HOLD_OUT_EVERY === HOLD_OUT_EVERY - 1. */
export declare const HOLD_OUT_EVERY: 5;

export interface Sample {
  /** 784 values in [0, 1], 28x28 row-major, white digit on black. */
  readonly pixels: Float32Array;
  /** The digit, 0-9. */
  readonly label: number;
}

/** 8004 samples, ordered by digit then index; shared, do not mutate. */
export declare function trainingSet(): readonly Sample[];
/** 1996 samples never used for training, ordered by digit then index; shared, do not mutate. */
export declare function heldOutSet(): readonly Sample[];
/** 28x28 8-bit grayscale PNG; pixel value v becomes round(v * 255). */
export declare function toPngBuffer(pixels: ArrayLike<number>): Buffer;
