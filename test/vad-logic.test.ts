// The VAD example's pure parts, on synthetic input: framing, the segment hysteresis, audio decoding,
// settings, and the bounded store of sequences.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AUDIO_FORMAT_HEADER, decodeAudio } from '../examples/vad/audio-decode.js';
import { FrameBuffer } from '../examples/vad/frame-buffer.js';
import { AudioFormatError, decodePcm } from '../examples/vad/pcm.js';
import { Segmenter, type Segment, type SegmenterOptions } from '../examples/vad/segmenter.js';
import { SequenceStore } from '../examples/vad/sequence-store.js';
import { readVadConfig } from '../examples/vad/vad-config.js';
import { parseWav } from '../examples/vad/wav.js';
import { chunkSizes, seededRandom } from './helpers/speech.js';
import { wavBytes } from './helpers/wav-bytes.js';

describe('FrameBuffer', () => {
  it('cuts chunks of any size into the same frames as the whole signal, keeping the remainder', () => {
    const signal = Float32Array.from({ length: 10_000 }, (_, i) => i);
    const buffer = new FrameBuffer(512);
    const frames: number[][] = [];
    const starts: number[] = [];
    let at = 0;
    for (const n of chunkSizes(signal.length, 1, 250, 3)) {
      buffer.append(signal.subarray(at, at + n));
      at += n;
      expect(buffer.received).toBe(at);
      while (buffer.readyFrames > 0) {
        const out = new Float32Array(512);
        starts.push(buffer.takeFrame(out, 0));
        frames.push(Array.from(out));
      }
      expect(buffer.pending).toBeLessThan(512);
    }
    expect(frames).toHaveLength(Math.floor(10_000 / 512));
    frames.forEach((f, k) => expect(f).toEqual(Array.from(signal.subarray(k * 512, (k + 1) * 512))));
    expect(starts).toEqual(frames.map((_, k) => k * 512));
    expect(buffer.framed).toBe(frames.length * 512);
  });

  it('writes a frame at the given offset of a batch buffer', () => {
    const buffer = new FrameBuffer(4);
    buffer.append(Float32Array.of(1, 2, 3, 4, 5));
    const batch = new Float32Array(8);
    expect(buffer.takeFrame(batch, 4)).toBe(0);
    expect(Array.from(batch)).toEqual([0, 0, 0, 0, 1, 2, 3, 4]);
    expect(() => buffer.takeFrame(batch, 0)).toThrow(/no whole frame/);
  });

  it('pads the tail with silence to a whole frame at the end, and reports the real end', () => {
    const buffer = new FrameBuffer(4);
    buffer.append(Float32Array.of(1, 2, 3, 4, 5, 6));
    expect(buffer.padTail()).toBe(6);
    expect(buffer.readyFrames).toBe(2);
    const out = new Float32Array(8);
    buffer.takeFrame(out, 0);
    buffer.takeFrame(out, 4);
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6, 0, 0]);
    const exact = new FrameBuffer(4);
    exact.append(Float32Array.of(1, 2, 3, 4));
    expect(exact.padTail()).toBe(4);
    expect(exact.readyFrames).toBe(1);
  });
});

describe('Segmenter', () => {
  // Frames of 10 samples; 30 samples of speech to count, 20 of silence to end, 5 of padding.
  const OPTIONS: SegmenterOptions = { threshold: 0.5, negThreshold: 0.35, minSpeech: 30, minSilence: 20, pad: 5 };
  const F = 10;

  /** Feeds probabilities frame by frame; returns every report with the frame index that made it. */
  function run(probs: number[], options = OPTIONS, finishAt?: number): { frame: number; segment: Segment }[] {
    const s = new Segmenter(options);
    const out: { frame: number; segment: Segment }[] = [];
    probs.forEach((p, k) => {
      const seg = s.push(p, k * F, (k + 1) * F);
      if (seg) out.push({ frame: k, segment: seg });
    });
    if (finishAt !== undefined) {
      const seg = s.finish(finishAt);
      if (seg) out.push({ frame: -1, segment: seg });
    }
    return out;
  }

  it('reports a start once the speech has lasted minSpeech, and the end once silence has lasted minSilence', () => {
    //           0    1    2    3    4    5    6    7    8
    const probs = [0.1, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1];
    expect(run(probs)).toEqual([
      // speech from 10; at the end of frame 3 (40) it has lasted 30: certain. Start padded by 5.
      { frame: 3, segment: { start: 5 } },
      // silence from 50; at the end of frame 6 (70) it has lasted 20: the end is 50, padded to 55.
      { frame: 6, segment: { start: 5, end: 55 } },
    ]);
  });

  it('drops speech shorter than minSpeech without ever reporting it', () => {
    expect(run([0.9, 0.9, 0.1, 0.1, 0.1, 0.9, 0.9, 0.1, 0.1])).toEqual([]);
  });

  it('keeps a pause shorter than minSilence inside the segment', () => {
    const out = run([0.9, 0.9, 0.9, 0.1, 0.9, 0.9, 0.1, 0.1]);
    expect(out).toEqual([
      { frame: 2, segment: { start: 0 } },
      { frame: 7, segment: { start: 0, end: 65 } },
    ]);
  });

  it('treats frames between the thresholds as neither ending speech nor breaking a silence', () => {
    // 0.4 after speech: still speech (no silence run starts); 0.4 inside a run of silence: the run goes on.
    const out = run([0.9, 0.9, 0.4, 0.4, 0.1, 0.4, 0.1, 0.1]);
    // speech 0..40; silence run from 40; at frame 5 (60) the run has lasted 20 but frame 5 is not silent,
    // so the end is decided by frame 6: end 40 + 5.
    expect(out).toEqual([
      { frame: 2, segment: { start: 0 } },
      { frame: 6, segment: { start: 0, end: 45 } },
    ]);
  });

  it('does not report a start while a silence that would make the speech too short is pending', () => {
    // speech 0..20, then silence from 20 with an in-between frame: the earliest end stays 20.
    const out = run([0.9, 0.9, 0.1, 0.4, 0.9, 0.9, 0.1, 0.1], { ...OPTIONS, minSilence: 40 });
    // frame 4 is speech again: the silence run is void, the speech lasts to at least 50 -> start at frame 4.
    expect(out[0]).toEqual({ frame: 4, segment: { start: 0 } });
  });

  it('never pads a start before the previous end or before 0', () => {
    const wide = { ...OPTIONS, pad: 15 };
    const out = run([0.9, 0.9, 0.9, 0.1, 0.1, 0.9, 0.9, 0.9, 0.1, 0.1], wide);
    expect(out.map((o) => o.segment)).toEqual([
      { start: 0 },
      { start: 0, end: 45 }, // silence from 30, decided at 50: 30 + 15
      { start: 45 }, // speech from 50: 50 - 15 = 35, but the previous segment reported up to 45
      { start: 45, end: 95 }, // silence from 80, decided at 100: 80 + 15
    ]);
  });

  it('closes open speech at the end of the audio, and drops it when too short', () => {
    expect(run([0.1, 0.9, 0.9, 0.9, 0.9], OPTIONS, 47)).toEqual([
      { frame: 3, segment: { start: 5 } },
      { frame: -1, segment: { start: 5, end: 47 } },
    ]);
    expect(run([0.1, 0.1, 0.9, 0.9], OPTIONS, 40)).toEqual([]);
    // Open speech with a silence pending at the end: it ends where the silence began.
    expect(run([0.9, 0.9, 0.9, 0.9, 0.1], OPTIONS, 50)).toEqual([
      { frame: 2, segment: { start: 0 } },
      { frame: -1, segment: { start: 0, end: 45 } },
    ]);
  });

  it('reports whether a segment is open', () => {
    const s = new Segmenter(OPTIONS);
    [0.9, 0.9].forEach((p, k) => s.push(p, k * F, (k + 1) * F));
    expect(s.speaking).toBe(false);
    s.push(0.9, 20, 30);
    expect(s.speaking).toBe(true);
    s.push(0.1, 30, 40);
    s.push(0.1, 40, 50);
    expect(s.speaking).toBe(false);
  });
});

function int16Bytes(values: number[], littleEndian = true): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setInt16(i * 2, x, littleEndian));
  return out;
}

describe('decodeAudio', () => {
  const S16 = [0, 16384, -16384, 32767, -32768];
  const EXPECTED = [0, 0.5, -0.5, 32767 / 32768, -1];

  it('reads s16le by default, for application/octet-stream and for audio/L16', () => {
    for (const type of ['', 'application/octet-stream', 'audio/L16', 'audio/L16; rate=16000; channels=1']) {
      expect(Array.from(decodeAudio(int16Bytes(S16), type))).toEqual(EXPECTED);
    }
  });

  it('reads big-endian audio/L16 when the content type says so, or the x-audio-format header', () => {
    expect(Array.from(decodeAudio(int16Bytes(S16, false), 'audio/L16;endianness=big-endian'))).toEqual(EXPECTED);
    expect(Array.from(decodeAudio(int16Bytes(S16, false), 'application/octet-stream', 's16be'))).toEqual(EXPECTED);
  });

  it('reads float32 little-endian from audio/x-float32 or the header', () => {
    const floats = Float32Array.of(0, 0.25, -0.75);
    const bytes = new Uint8Array(floats.buffer);
    expect(Array.from(decodeAudio(bytes, 'audio/x-float32'))).toEqual([0, 0.25, -0.75]);
    expect(Array.from(decodeAudio(bytes, 'application/octet-stream', 'F32LE'))).toEqual([0, 0.25, -0.75]);
  });

  it('averages the channels of interleaved audio', () => {
    expect(Array.from(decodeAudio(int16Bytes([16384, 0, -16384, -16384]), 'audio/L16; channels=2'))).toEqual([0.25, -0.5]);
  });

  it('reads WAV files: PCM 16-bit stereo, float32, extensible, odd chunks, and a size left unfixed by a pipe', () => {
    const stereo = wavBytes({ format: 1, channels: 2, rate: 16000, bits: 16, data: int16Bytes([16384, 0, 32767, 32767]), extraChunk: true });
    expect(Array.from(decodeAudio(stereo, 'audio/wav'))).toEqual([0.25, 32767 / 32768]);
    const floats = new Uint8Array(Float32Array.of(0.5, -0.5).buffer);
    expect(Array.from(decodeAudio(wavBytes({ format: 3, channels: 1, rate: 16000, bits: 32, data: floats }), 'audio/x-wav'))).toEqual([0.5, -0.5]);
    expect(Array.from(decodeAudio(wavBytes({ format: 0, extensible: 1, channels: 1, rate: 16000, bits: 16, data: int16Bytes([16384]) }), 'audio/wav'))).toEqual([0.5]);
    const piped = wavBytes({ format: 1, channels: 1, rate: 16000, bits: 16, data: int16Bytes([16384, -16384]), dataSize: 0x7ffff000 });
    // sniffed from the RIFF header: no content type needed
    expect(Array.from(decodeAudio(piped, 'application/octet-stream'))).toEqual([0.5, -0.5]);
  });

  it('reads the WAV that sox writes, sample for sample as its raw output', () => {
    // -D: no dither, so both outputs hold the same samples
    const args = ['-D', '-n', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer'];
    const synth = ['synth', '0.05', 'sine', '440'];
    const wav = execFileSync('sox', [...args, '-t', 'wav', '-', ...synth]);
    const raw = execFileSync('sox', [...args, '-t', 'raw', '-', ...synth]);
    const fromWav = decodeAudio(new Uint8Array(wav), 'audio/wav');
    expect(fromWav).toHaveLength(800);
    expect(Array.from(fromWav)).toEqual(Array.from(decodeAudio(new Uint8Array(raw), '')));
    expect(Math.max(...fromWav)).toBeGreaterThan(0.5);
  });

  it('refuses other sample rates with 415 and a hint', () => {
    const wav = wavBytes({ format: 1, channels: 1, rate: 44100, bits: 16, data: int16Bytes([1]) });
    for (const [body, type] of [
      [wav, 'audio/wav'],
      [int16Bytes([1]), 'audio/L16;rate=8000'],
    ] as const) {
      const err = (() => {
        try {
          decodeAudio(body, type);
        } catch (e) {
          return e as AudioFormatError;
        }
        throw new Error('accepted');
      })();
      expect(err).toBeInstanceOf(AudioFormatError);
      expect(err.status).toBe(415);
      expect(err.message).toMatch(/must be sampled at 16000 Hz \(got (44100|8000) Hz\); resample/);
    }
  });

  it('refuses malformed or unreadable bodies with a clear status', () => {
    const cases: [Uint8Array, string, string | undefined, number, RegExp][] = [
      [new Uint8Array(3), '', undefined, 400, /3 bytes is not a whole number of 2-byte sample frames/],
      [new Uint8Array(6), 'audio/x-float32', undefined, 400, /not a whole number of 4-byte/],
      [new Uint8Array(4), 'text/plain', undefined, 415, /content type text\/plain is not audio/],
      [new Uint8Array(4), '', 'mp3', 400, new RegExp(`${AUDIO_FORMAT_HEADER} must be one of s16le, s16be, f32le, wav`)],
      [new Uint8Array(4), 'audio/L16;endianness=middle', undefined, 400, /endianness must be/],
      [new Uint8Array(4), 'audio/L16;rate=fast', undefined, 400, /rate must be a positive integer/],
      [new Uint8Array(20), 'audio/wav', undefined, 400, /no RIFF\/WAVE header/],
      [wavBytes({ format: 1, channels: 1, rate: 16000, bits: 16, data: new Uint8Array(0) }).subarray(0, 30), 'audio/wav', undefined, 400, /fmt chunk is truncated/],
      [wavBytes({ format: 6, channels: 1, rate: 16000, bits: 8, data: new Uint8Array(2) }), 'audio/wav', undefined, 415, /format code 6 is not supported/],
      [wavBytes({ format: 1, channels: 1, rate: 16000, bits: 12, data: new Uint8Array(3) }), 'audio/wav', undefined, 415, /12-bit integer samples are not supported/],
    ];
    for (const [body, type, header, status, message] of cases) {
      let caught: unknown;
      try {
        decodeAudio(body, type, header);
      } catch (e) {
        caught = e;
      }
      expect(caught, `${type} ${header}`).toBeInstanceOf(AudioFormatError);
      expect((caught as AudioFormatError).status).toBe(status);
      expect((caught as AudioFormatError).message).toMatch(message);
    }
  });

  it('decodes 8, 24 and 32-bit integer PCM to the same scale', () => {
    expect(Array.from(decodePcm(Uint8Array.of(128, 192, 0), { kind: 'int', bits: 8, littleEndian: true, channels: 1 }))).toEqual([0, 0.5, -1]);
    // 24-bit little-endian 0x400000 (0.5) and 0xC00000 (-0.5)
    expect(Array.from(decodePcm(Uint8Array.of(0, 0, 0x40, 0, 0, 0xc0), { kind: 'int', bits: 24, littleEndian: true, channels: 1 }))).toEqual([0.5, -0.5]);
    expect(Array.from(decodePcm(Uint8Array.of(0x40, 0, 0), { kind: 'int', bits: 24, littleEndian: false, channels: 1 }))).toEqual([0.5]);
    const i32 = new Uint8Array(4);
    new DataView(i32.buffer).setInt32(0, -1073741824, true);
    expect(Array.from(decodePcm(i32, { kind: 'int', bits: 32, littleEndian: true, channels: 1 }))).toEqual([-0.5]);
    expect(parseWav(wavBytes({ format: 1, channels: 1, rate: 16000, bits: 24, data: Uint8Array.of(0, 0, 0x40) })).layout.bits).toBe(24);
  });
});

describe('readVadConfig', () => {
  it("defaults to silero's own settings", () => {
    expect(readVadConfig({})).toEqual({
      threshold: 0.5,
      negThreshold: 0.35,
      minSpeechMs: 250,
      minSilenceMs: 100,
      speechPadMs: 30,
      frameSamples: 512,
      maxSequences: 1024,
      batchFrames: true,
    });
    expect(readVadConfig({ threshold: 0.6 }).negThreshold).toBeCloseTo(0.45);
  });

  it('names the key of a wrong value', () => {
    expect(() => readVadConfig({ threshold: 2 })).toThrow('handler.threshold must be a number in [0, 1] (got 2)');
    expect(() => readVadConfig({ threshold: 0.5, negThreshold: 0.6 })).toThrow('handler.negThreshold must be a number in [0, 0.5] (got 0.6)');
    expect(() => readVadConfig({ minSilenceMs: '300' })).toThrow('handler.minSilenceMs must be a number in [0, 60000] (got "300")');
    expect(() => readVadConfig({ frameSamples: 480 })).toThrow('handler.frameSamples must be one of 512, 1024, 1536 (got 480)');
    expect(() => readVadConfig({ maxSequences: 2.5 })).toThrow('handler.maxSequences must be an integer (got 2.5)');
    expect(() => readVadConfig({ batchFrames: 'yes' })).toThrow('handler.batchFrames must be true or false (got "yes")');
  });
});

describe('SequenceStore', () => {
  it('drops the sequence idle longest past its bound, never one of the running batch', () => {
    const dropped: string[] = [];
    const store = new SequenceStore<number>(3, (id) => dropped.push(id));
    store.open('a', 1, new Set());
    store.open('b', 2, new Set());
    store.open('c', 3, new Set());
    expect(store.use('a')).toBe(1); // a is now the most recent; b is idle longest
    store.open('d', 4, new Set(['b', 'd']));
    expect(dropped).toEqual(['c']); // b is busy: the next idle one goes
    expect(store.size).toBe(3);
    expect(store.use('c')).toBeUndefined();
    store.open('a', 10, new Set()); // reopening replaces, no drop
    expect(dropped).toEqual(['c']);
    expect(store.use('a')).toBe(10);
    store.close('a');
    expect(store.use('a')).toBeUndefined();
    expect(store.size).toBe(2);
  });

  it('keeps every sequence while within its bound, under random use', () => {
    const random = seededRandom(5);
    const store = new SequenceStore<number>(50, () => {
      throw new Error('dropped within the bound');
    });
    for (let i = 0; i < 1000; i++) {
      const id = String(Math.floor(random() * 50));
      if (store.use(id) === undefined) store.open(id, i, new Set());
    }
    expect(store.size).toBe(50);
  });
});
