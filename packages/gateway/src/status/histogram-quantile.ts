/**
 * The q-quantile (0..1) of a histogram given as ascending upper bounds and cumulative counts, the last
 * bound being +Inf; null when the histogram is empty. Interpolates linearly inside the bucket that holds
 * the rank, as Prometheus' `histogram_quantile` does (the lowest bucket starts at 0, a rank in the +Inf
 * bucket answers the highest finite bound), so a figure shown here is the one a Grafana panel over
 * the same buckets shows.
 */
export function histogramQuantile(q: number, bounds: readonly number[], cumulative: ArrayLike<number>): number | null {
  const n = bounds.length;
  if (n === 0 || cumulative.length !== n) return null;
  const total = cumulative[n - 1]!;
  if (!(total > 0)) return null;
  const rank = q * total;
  let b = 0;
  while (b < n - 1 && cumulative[b]! < rank) b++;
  if (bounds[b] === Infinity) return n >= 2 ? bounds[n - 2]! : null;
  const end = bounds[b]!;
  const start = b === 0 ? Math.min(0, end) : bounds[b - 1]!;
  const below = b === 0 ? 0 : cumulative[b - 1]!;
  const inBucket = cumulative[b]! - below;
  if (inBucket <= 0) return end;
  return start + (end - start) * ((rank - below) / inBucket);
}
