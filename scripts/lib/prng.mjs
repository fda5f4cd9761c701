// Seeded pseudo-random numbers, so that training and generated weights are
// byte-for-byte reproducible: Math.random() cannot be seeded.

/**
 * mulberry32: tiny, fast, and good enough for weight init and shuffling
 * (we need reproducibility, not cryptographic or statistical perfection).
 * @param {number} seed 32-bit integer seed
 * @returns {() => number} uniform in [0, 1)
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard normal samples via Box-Muller, driven by a seeded uniform source.
 * @param {() => number} uniform
 * @returns {() => number}
 */
export function gaussian(uniform) {
  let spare = null;
  return function next() {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    // 1 - u keeps the argument of log strictly positive.
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

/**
 * In-place Fisher-Yates shuffle using a seeded uniform source.
 * @template T
 * @param {T[] | Int32Array | Uint32Array} array
 * @param {() => number} uniform
 */
export function shuffleInPlace(array, uniform) {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}
