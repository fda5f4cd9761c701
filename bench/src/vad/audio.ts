import { execFileSync } from 'node:child_process';

/** The VAD's sample rate. */
export const RATE = 16_000;

/**
 * Real speech, 16 kHz mono s16le, made by Debian's espeak-ng and sox (as the vad tests do) with a
 * second of silence after it; the bench loops it. The model's cost does not depend on the audio, but
 * the segmenter's work and the answers are then those of real speech.
 */
export function speechLoop(): Uint8Array {
  const wav = execFileSync('espeak-ng', ['-v', 'en-us', '--stdout', 'The quick brown fox jumps over the lazy dog. Seven. Hello, how are you today?']);
  const raw = execFileSync('sox', ['-t', 'wav', '-', '-r', String(RATE), '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', '-', 'pad', '0', '1'], {
    input: wav,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** Bytes of one chunk of `chunkMs` milliseconds. */
export function chunkBytes(chunkMs: number): number {
  return ((chunkMs * RATE) / 1000) * 2;
}

/** Chunk `k` of sequence `seq`: every sequence starts at a different place of the loop. */
export function chunkOf(speech: Uint8Array, bytes: number, seq: number, k: number): Uint8Array {
  const at = (((seq * 7919 + k) * bytes) % (speech.byteLength - bytes)) & ~1;
  return speech.subarray(at, at + bytes);
}
