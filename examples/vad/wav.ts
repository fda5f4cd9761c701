import { AudioFormatError, type PcmLayout } from './pcm.js';

/** What a RIFF/WAVE header says, and where its sample data is. */
export interface WavFile {
  sampleRate: number;
  layout: PcmLayout;
  data: Uint8Array;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function tag(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

/** Whether the bytes start like a WAV file (for bodies sent without a content type). */
export function looksLikeWav(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 12 && tag(bytes, 0) === 'RIFF' && tag(bytes, 8) === 'WAVE';
}

/**
 * Parses the chunks of a WAV file: `fmt ` (PCM, IEEE float, or extensible wrapping either) and `data`.
 * A `data` size past the end of the file (a WAV written to a pipe, whose header could not be fixed up
 * afterwards) means "the rest of the file".
 */
export function parseWav(bytes: Uint8Array): WavFile {
  if (!looksLikeWav(bytes)) throw new AudioFormatError('not a WAV file: no RIFF/WAVE header', 400);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: { code: number; channels: number; rate: number; bits: number } | undefined;
  let at = 12;
  while (at + 8 <= bytes.byteLength) {
    const id = tag(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > bytes.byteLength) throw new AudioFormatError('WAV fmt chunk is truncated', 400);
      let code = view.getUint16(body, true);
      // The extensible header's sub-format GUID begins with the plain format code.
      if (code === WAVE_FORMAT_EXTENSIBLE && size >= 40) code = view.getUint16(body + 24, true);
      format = { code, channels: view.getUint16(body + 2, true), rate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!format) throw new AudioFormatError('WAV data chunk comes before its fmt chunk', 400);
      const end = Math.min(body + size, bytes.byteLength);
      if (format.code !== WAVE_FORMAT_PCM && format.code !== WAVE_FORMAT_IEEE_FLOAT) {
        throw new AudioFormatError(`WAV format code ${format.code} is not supported (only PCM and IEEE float)`, 415);
      }
      const layout: PcmLayout = {
        kind: format.code === WAVE_FORMAT_PCM ? 'int' : 'float',
        bits: format.bits,
        littleEndian: true,
        channels: format.channels,
      };
      // A pipe-written file can end mid-sample; the partial sample is dropped, not refused.
      const frame = (format.bits / 8) * format.channels;
      const usable = frame > 0 ? end - ((end - body) % frame) : end;
      return { sampleRate: format.rate, layout, data: bytes.subarray(body, usable) };
    }
    at = body + size + (size % 2); // chunks are padded to even sizes
  }
  throw new AudioFormatError('WAV file has no data chunk', 400);
}
