import type { TextItem } from './text-images.js';

/** What an OCR answers per line (the example's `{lines}`). */
export interface ReadLine {
  readonly text: string;
  readonly box: readonly (readonly [number, number])[];
}

/** Edit distance (insertions, deletions, substitutions) between two strings, by code point. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[y.length]!;
}

const noSpaces = (s: string): string => s.replace(/\s+/g, '');

/** One expected item against what was read there. */
export interface ItemScore {
  readonly expected: string;
  readonly read: string;
  readonly errors: number;
}

/**
 * Scores one page's answer against the items drawn on it, ignoring spaces. Each read line goes to
 * the item it sits on: the items of the row whose text band holds the line's middle, then the
 * rightmost of them starting left of the middle (items of a row are columns); a line near no row
 * goes to the nearest row (a turned page's single item), so nothing read is lost: stray text
 * counts as errors of some item.
 * An item's reading is its lines joined left to right.
 */
export function scorePage(items: readonly TextItem[], lines: readonly ReadLine[]): ItemScore[] {
  const assigned = items.map((): { x: number; text: string }[] => []);
  for (const line of lines) {
    const cx = line.box.reduce((s, p) => s + p[0], 0) / line.box.length;
    const cy = line.box.reduce((s, p) => s + p[1], 0) / line.box.length;
    const middle = (t: TextItem): number => t.y - 0.35 * t.size;
    let candidates = items.map((t, i) => ({ t, i })).filter(({ t }) => Math.abs(cy - middle(t)) <= 0.6 * t.size);
    if (candidates.length === 0) {
      const nearest = Math.min(...items.map((t) => Math.abs(cy - middle(t))));
      candidates = items.map((t, i) => ({ t, i })).filter(({ t }) => Math.abs(cy - middle(t)) === nearest);
    }
    const left = candidates.filter(({ t }) => t.x <= cx);
    const pick = left.length > 0 ? left.reduce((a, b) => (b.t.x > a.t.x ? b : a)) : candidates.reduce((a, b) => (b.t.x < a.t.x ? b : a));
    assigned[pick.i]!.push({ x: cx, text: line.text });
  }
  return items.map((t, i) => {
    const read = assigned[i]!.sort((a, b) => a.x - b.x).map((l) => l.text).join('');
    return { expected: t.text, read, errors: editDistance(noSpaces(t.text), noSpaces(read)) };
  });
}

/** Character error rate (errors over expected characters, spaces ignored) and the share of items read exactly. */
export function summarise(scores: readonly ItemScore[]): { lines: number; chars: number; cer: number; exact: number } {
  const chars = scores.reduce((n, s) => n + noSpaces(s.expected).length, 0);
  const errors = scores.reduce((n, s) => n + s.errors, 0);
  return { lines: scores.length, chars, cer: errors / chars, exact: scores.filter((s) => s.errors === 0).length / scores.length };
}

/**
 * Scores each page's answer (`answers[i]` read from `pages[i]`) and sums them up, with the misread
 * items spelled out for the test's log.
 */
export function scoreAnswers(
  pages: readonly { readonly items: readonly TextItem[] }[],
  answers: readonly (readonly ReadLine[])[],
): ReturnType<typeof summarise> & { misread: string[] } {
  const scores = pages.flatMap((page, i) => scorePage(page.items, answers[i]!));
  const misread = scores.filter((s) => s.errors > 0).map((s) => `${JSON.stringify(s.expected)} read ${JSON.stringify(s.read)}`);
  return { ...summarise(scores), misread };
}
