import { gzipSync } from 'node:zlib';
import { zipSync, type Zippable } from 'fflate';

/** A minimal manifest and the handler it names, so that an archive is refused for its entries and not for lacking them. */
export const MANIFEST = JSON.stringify({ runtime: 'node', model: { modelName: 'evil', modelVersion: '1.0', handler: 'handler.js' } });
const HANDLER = 'export function handle(data) { return data.map(() => "ok"); }\n';

const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;

/** A zip with the given entries; `symlinks` maps an entry name to its link target, stored as a Unix symlink. */
export function evilZip(files: Record<string, string>, symlinks: Record<string, string> = {}): Uint8Array {
  const z: Zippable = { 'MAR-INF/MANIFEST.json': new TextEncoder().encode(MANIFEST), 'handler.js': new TextEncoder().encode(HANDLER) };
  for (const [name, text] of Object.entries(files)) z[name] = [new TextEncoder().encode(text), { os: 3, attrs: (S_IFREG | 0o644) << 16 }];
  for (const [name, target] of Object.entries(symlinks)) z[name] = [new TextEncoder().encode(target), { os: 3, attrs: (S_IFLNK | 0o777) << 16 }];
  return zipSync(z);
}

/**
 * A zip whose one entry inflates to `actual` bytes while its headers declare `declared`: a zip bomb
 * that lies about its size. The size fields are patched in the local header and the central directory.
 */
export function lyingZip(actual: number, declared: number): Uint8Array {
  const bytes = zipSync({ 'MAR-INF/MANIFEST.json': new TextEncoder().encode(MANIFEST), 'zeros.bin': new Uint8Array(actual) }, { level: 9 });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 46 <= bytes.length; i++) {
    const sig = view.getUint32(i, true);
    const nameAt = sig === 0x04034b50 ? 30 : sig === 0x02014b50 ? 46 : -1;
    if (nameAt < 0) continue;
    const nameLen = view.getUint16(i + (sig === 0x04034b50 ? 26 : 28), true);
    const name = new TextDecoder().decode(bytes.subarray(i + nameAt, i + nameAt + nameLen));
    if (name !== 'zeros.bin') continue;
    view.setUint32(i + (sig === 0x04034b50 ? 22 : 24), declared, true);
  }
  return bytes;
}

export interface TarEntry {
  name: string;
  /** '0' file, '2' symlink, '1' hard link, '5' folder. */
  type?: '0' | '1' | '2' | '5';
  body?: string;
  linkname?: string;
}

/** A .tar.gz written by hand, since tar libraries refuse to write the entries these tests need. */
export function evilTgz(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  const all: TarEntry[] = [{ name: 'MAR-INF/MANIFEST.json', body: MANIFEST }, { name: 'handler.js', body: HANDLER }, ...entries];
  for (const e of all) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write(e.type ?? '0', 156);
    h.write(e.linkname ?? '', 157, 100);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
