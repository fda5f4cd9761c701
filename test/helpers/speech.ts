import { execFileSync } from 'node:child_process';

/** Sample rate of everything here: the VAD's. */
export const RATE = 16_000;

/** Speech in `text` by Debian's espeak-ng, resampled by sox to 16 kHz mono signed 16-bit. */
export function speak(text: string, voice = 'en-us'): Int16Array {
  const wav = execFileSync('espeak-ng', ['-v', voice, '--stdout', text]);
  const raw = execFileSync('sox', ['-t', 'wav', '-', '-r', String(RATE), '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', '-'], {
    input: wav,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

/**
 * Where the sound of an utterance is, in samples: the first and last 10 ms window whose energy is above
 * `floorDb` dBFS. espeak-ng pads its output with silence (about 300 ms at the end), so its length alone
 * would overstate the speech.
 */
export function soundSpan(samples: Int16Array, floorDb = -45): { start: number; end: number } {
  const win = RATE / 100;
  let first = -1;
  let last = -1;
  for (let w = 0; w + win <= samples.length; w += win) {
    let energy = 0;
    for (let i = w; i < w + win; i++) energy += (samples[i]! / 32768) ** 2;
    if (10 * Math.log10(energy / win + 1e-12) > floorDb) {
      if (first < 0) first = w;
      last = w + win;
    }
  }
  if (first < 0) throw new Error('no sound in the utterance');
  return { start: first, end: last };
}

/** A deterministic generator (mulberry32), so the "random" noise and chunk sizes repeat run to run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Recording {
  samples: Int16Array;
  /** Where each utterance's sound is, in seconds from the recording's start. */
  spans: { start: number; end: number }[];
  /** The gaps between the utterances' sounds (and before the first, after the last), in seconds. */
  silences: { start: number; end: number }[];
}

/**
 * Utterances joined by silences of the given lengths (`gapsS[0]` before the first utterance, then one
 * after each), with faint white noise (about -60 dBFS) everywhere so the silence is not digital zero.
 */
export function compose(utterances: Int16Array[], gapsS: number[], seed = 1): Recording {
  if (gapsS.length !== utterances.length + 1) throw new Error('one gap before each utterance and one after the last');
  const parts: Int16Array[] = [];
  const spans: { start: number; end: number }[] = [];
  let at = 0;
  for (let i = 0; i <= utterances.length; i++) {
    const gap = new Int16Array(Math.round(gapsS[i]! * RATE));
    parts.push(gap);
    at += gap.length;
    const u = utterances[i];
    if (!u) break;
    const span = soundSpan(u);
    spans.push({ start: (at + span.start) / RATE, end: (at + span.end) / RATE });
    parts.push(u);
    at += u.length;
  }
  const samples = new Int16Array(at);
  let o = 0;
  for (const p of parts) {
    samples.set(p, o);
    o += p.length;
  }
  const random = seededRandom(seed);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.max(-32768, Math.min(32767, samples[i]! + Math.round((random() - 0.5) * 64)));
  const silences = [{ start: 0, end: spans[0]!.start }];
  for (let i = 1; i < spans.length; i++) silences.push({ start: spans[i - 1]!.end, end: spans[i]!.start });
  silences.push({ start: spans[spans.length - 1]!.end, end: samples.length / RATE });
  return { samples, spans, silences };
}

/** Cuts `total` samples into chunk lengths between `minMs` and `maxMs`, deterministically from `seed`. */
export function chunkSizes(total: number, minMs: number, maxMs: number, seed: number): number[] {
  const random = seededRandom(seed);
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const n = Math.min(left, Math.round(((minMs + random() * (maxMs - minMs)) * RATE) / 1000));
    sizes.push(n);
    left -= n;
  }
  return sizes;
}
