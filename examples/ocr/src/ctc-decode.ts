/** A decoded line: the text and the mean probability of the characters that make it. */
export interface CtcResult {
  readonly text: string;
  readonly confidence: number;
}

/**
 * Greedy CTC decoding of one sequence: the most likely class at each of `steps` time steps (`classes`
 * scores each, row-major from `offset`), repeats collapsed, blanks (class 0) dropped. `charset[k]` is
 * the character of class k (`charset[0]` stands for the blank and is never emitted). Confidence is
 * the mean of the chosen classes' probabilities, 0 for an empty line.
 */
export function ctcGreedyDecode(scores: Float32Array, steps: number, classes: number, charset: readonly string[], offset = 0): CtcResult {
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const row = offset + t * classes;
    let best = 0;
    let bestScore = scores[row]!;
    for (let c = 1; c < classes; c++) {
      const s = scores[row + c]!;
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += charset[best] ?? '';
      sum += bestScore;
      kept++;
    }
    previous = best;
  }
  return { text, confidence: kept === 0 ? 0 : sum / kept };
}
