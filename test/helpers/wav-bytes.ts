/** A WAV file's bytes, written field by field so a test controls every one (sizes, codes, odd chunks). */
export function wavBytes(opts: {
  /** WAVE format code: 1 PCM, 3 IEEE float. */
  format: number;
  channels: number;
  rate: number;
  bits: number;
  data: Uint8Array;
  /** What the data chunk claims as its size (default: the real size). */
  dataSize?: number;
  /** Puts a 3-byte LIST chunk (padded to 4) before the data chunk. */
  extraChunk?: boolean;
  /** Writes WAVE_FORMAT_EXTENSIBLE with this sub-format code instead of `format`. */
  extensible?: number;
}): Uint8Array {
  const fmtSize = opts.extensible !== undefined ? 40 : 16;
  const extra = opts.extraChunk ? 8 + 3 + 1 : 0;
  const buf = new Uint8Array(12 + 8 + fmtSize + extra + 8 + opts.data.byteLength);
  const v = new DataView(buf.buffer);
  const tag = (at: number, s: string): void => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  tag(0, 'RIFF');
  v.setUint32(4, buf.byteLength - 8, true);
  tag(8, 'WAVE');
  tag(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  v.setUint16(20, opts.extensible !== undefined ? 0xfffe : opts.format, true);
  v.setUint16(22, opts.channels, true);
  v.setUint32(24, opts.rate, true);
  v.setUint32(28, (opts.rate * opts.channels * opts.bits) / 8, true);
  v.setUint16(32, (opts.channels * opts.bits) / 8, true);
  v.setUint16(34, opts.bits, true);
  if (opts.extensible !== undefined) v.setUint16(20 + 24, opts.extensible, true);
  let at = 20 + fmtSize;
  if (opts.extraChunk) {
    tag(at, 'LIST');
    v.setUint32(at + 4, 3, true);
    at += 12;
  }
  tag(at, 'data');
  v.setUint32(at + 4, opts.dataSize ?? opts.data.byteLength, true);
  buf.set(opts.data, at + 8);
  return buf;
}

/** 16 kHz mono 16-bit PCM samples as a WAV file. */
export function pcm16Wav(samples: Int16Array): Uint8Array {
  return wavBytes({ format: 1, channels: 1, rate: 16_000, bits: 16, data: new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength) });
}
