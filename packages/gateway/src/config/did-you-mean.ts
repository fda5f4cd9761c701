/**
 * Edit distance between two words (insertions, deletions, substitutions and swaps of neighbours each
 * cost 1), compared case-insensitively: `inference_adress` is one edit from `inference_address`, and
 * `batchsize` none from `batchSize`.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const rows: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[s.length]![t.length]!;
}

/**
 * The known name nearest to `word`, when it is near enough to be a typo: at most a third of the
 * word's length in edits (at least 1, at most 3). Separators count as nothing, so `batch_size` and
 * `batchSize` are the same word.
 */
export function didYouMean(word: string, known: Iterable<string>): string | undefined {
  const bare = (w: string): string => w.replace(/[-_.]/g, '');
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    if (candidate === word) return undefined;
    const d = Math.min(editDistance(word, candidate), editDistance(bare(word), bare(candidate)));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** ` (did you mean "x"?)`, or nothing when no known name is near. */
export function didYouMeanSuffix(word: string, known: Iterable<string>): string {
  const near = didYouMean(word, known);
  return near === undefined ? '' : ` (did you mean "${near}"?)`;
}
