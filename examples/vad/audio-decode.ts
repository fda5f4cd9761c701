import { AudioFormatError, decodePcm, type PcmLayout } from './pcm.js';
import { SAMPLE_RATE } from './vad-config.js';
import { looksLikeWav, parseWav } from './wav.js';

/** Request header naming the encoding outright, over the content type: `s16le`, `s16be`, `f32le` or `wav`. */
export const AUDIO_FORMAT_HEADER = 'x-audio-format';

const RAW_LAYOUTS: Record<string, Omit<PcmLayout, 'channels'>> = {
  s16le: { kind: 'int', bits: 16, littleEndian: true },
  s16be: { kind: 'int', bits: 16, littleEndian: false },
  f32le: { kind: 'float', bits: 32, littleEndian: true },
};

const WAV_TYPES = new Set(['audio/wav', 'audio/wave', 'audio/x-wav', 'audio/vnd.wave']);

function parseContentType(contentType: string): { type: string; params: Map<string, string> } {
  const [type = '', ...rest] = contentType.split(';');
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"|"$/g, '').toLowerCase());
  }
  return { type: type.trim().toLowerCase(), params };
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new AudioFormatError(`content type parameter ${name} must be a positive integer (got "${value}")`, 400);
  return n;
}

function checkRate(rate: number): void {
  if (rate !== SAMPLE_RATE) {
    throw new AudioFormatError(`audio must be sampled at ${SAMPLE_RATE} Hz (got ${rate} Hz); resample it first, e.g. sox in.wav -r 16000 out.wav`, 415);
  }
}

/**
 * One request's body to 16 kHz mono float32 samples.
 *
 * - `audio/wav` (and its aliases), or any body starting with a RIFF/WAVE header: the header decides.
 * - `audio/L16`: signed 16-bit, little-endian unless `endianness=big-endian` (RFC 2586 says big-endian;
 *   what clients actually send is the machine's order), with optional `rate` and `channels`.
 * - `audio/x-float32`: float32 little-endian, same parameters.
 * - none or `application/octet-stream`: signed 16-bit little-endian mono.
 * The `x-audio-format` header overrides the content type. Channels are averaged; any rate but 16 kHz
 * is refused (415).
 */
export function decodeAudio(body: Uint8Array, contentType: string, formatHeader?: string): Float32Array {
  const { type, params } = parseContentType(contentType);
  const format = formatHeader?.trim().toLowerCase();
  if (format === 'wav' || (format === undefined && (WAV_TYPES.has(type) || looksLikeWav(body)))) {
    const wav = parseWav(body);
    checkRate(wav.sampleRate);
    return decodePcm(wav.data, wav.layout);
  }
  let raw: Omit<PcmLayout, 'channels'> | undefined;
  if (format !== undefined) {
    raw = RAW_LAYOUTS[format];
    if (!raw) throw new AudioFormatError(`${AUDIO_FORMAT_HEADER} must be one of ${[...Object.keys(RAW_LAYOUTS), 'wav'].join(', ')} (got "${formatHeader}")`, 400);
  } else if (type === 'audio/l16') {
    const endianness = params.get('endianness') ?? 'little-endian';
    if (endianness !== 'little-endian' && endianness !== 'big-endian') {
      throw new AudioFormatError(`endianness must be little-endian or big-endian (got "${endianness}")`, 400);
    }
    raw = endianness === 'big-endian' ? RAW_LAYOUTS['s16be'] : RAW_LAYOUTS['s16le'];
  } else if (type === 'audio/x-float32') {
    raw = RAW_LAYOUTS['f32le'];
  } else if (type === '' || type === 'application/octet-stream') {
    raw = RAW_LAYOUTS['s16le'];
  } else {
    throw new AudioFormatError(
      `content type ${type} is not audio this model reads: send audio/wav, audio/L16, audio/x-float32 or application/octet-stream (16-bit PCM)`,
      415,
    );
  }
  checkRate(positiveInt(params.get('rate'), 'rate', SAMPLE_RATE));
  return decodePcm(body, { ...raw!, channels: positiveInt(params.get('channels'), 'channels', 1) });
}
