/** Leading bytes of the image formats the SDK decodes (and a few more, so they are never taken for base64). */
const MAGIC: readonly number[][] = [
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x47, 0x49, 0x46, 0x38], // GIF
  [0x42, 0x4d], // BMP
  [0x52, 0x49, 0x46, 0x46], // RIFF (WebP)
];

const BASE64_TEXT = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * The image bytes of a request payload: as sent when they are an image already, or decoded when they
 * are base64 text (KServe clients send an image as a base64 string, TorchServe's handlers decode it the
 * same way), a `data:image/...;base64,` URL included. Anything else is returned unchanged.
 */
export function imageBytes(payload: Uint8Array): Uint8Array {
  if (MAGIC.some((m) => m.every((b, i) => payload[i] === b))) return payload;
  let text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1').replace(/\s+/g, '');
  const comma = text.startsWith('data:') ? text.indexOf(',') : -1;
  if (comma >= 0) text = text.slice(comma + 1);
  if (text.length < 8 || text.length % 4 === 1 || !BASE64_TEXT.test(text)) return payload;
  return new Uint8Array(Buffer.from(text, 'base64'));
}
