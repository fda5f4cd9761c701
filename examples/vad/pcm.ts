/** Interleaved PCM samples to mono float32 in [-1, 1]: the channels are averaged. */
export interface PcmLayout {
  kind: 'int' | 'float';
  /** 8 (unsigned, as in WAV), 16, 24 or 32 for `int`; 32 or 64 for `float`. */
  bits: number;
  littleEndian: boolean;
  channels: number;
}

export class AudioFormatError extends Error {
  constructor(
    message: string,
    /** 400 for a malformed body, 415 for a well-formed one this model cannot take. */
    readonly status: 400 | 415,
  ) {
    super(message);
    this.name = 'AudioFormatError';
  }
}

function reader(view: DataView, layout: PcmLayout): (offset: number) => number {
  const le = layout.littleEndian;
  if (layout.kind === 'float') {
    if (layout.bits === 32) return (o) => view.getFloat32(o, le);
    if (layout.bits === 64) return (o) => view.getFloat64(o, le);
  } else {
    if (layout.bits === 8) return (o) => (view.getUint8(o) - 128) / 128;
    if (layout.bits === 16) return (o) => view.getInt16(o, le) / 32768;
    if (layout.bits === 24) {
      return (o) => {
        const [a, b, c] = le ? [view.getUint8(o), view.getUint8(o + 1), view.getInt8(o + 2)] : [view.getUint8(o + 2), view.getUint8(o + 1), view.getInt8(o)];
        return (c * 65536 + b * 256 + a) / 8388608;
      };
    }
    if (layout.bits === 32) return (o) => view.getInt32(o, le) / 2147483648;
  }
  throw new AudioFormatError(`${layout.bits}-bit ${layout.kind === 'int' ? 'integer' : 'float'} samples are not supported`, 415);
}

export function decodePcm(data: Uint8Array, layout: PcmLayout): Float32Array {
  if (!Number.isInteger(layout.channels) || layout.channels < 1) throw new AudioFormatError(`bad channel count ${layout.channels}`, 400);
  const read = reader(new DataView(data.buffer, data.byteOffset, data.byteLength), layout);
  const bytes = layout.bits / 8;
  const frame = bytes * layout.channels;
  if (data.byteLength % frame !== 0) {
    throw new AudioFormatError(`${data.byteLength} bytes is not a whole number of ${frame}-byte sample frames: a chunk must not split a sample`, 400);
  }
  const out = new Float32Array(data.byteLength / frame);
  for (let i = 0, o = 0; i < out.length; i++) {
    let sum = 0;
    for (let c = 0; c < layout.channels; c++, o += bytes) sum += read(o);
    out[i] = sum / layout.channels;
  }
  return out;
}
