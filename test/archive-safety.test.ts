import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { openArchive } from '@model-server/archive';
import { beforeEach, describe, expect, it } from 'vitest';
import { evilTgz, evilZip, lyingZip } from './helpers/evil-archives.js';
import { mgmt } from './helpers/management.js';
import { buildModel, tempDir } from './helpers/models.js';
import { startServer } from './helpers/server.js';

let root: string;
let inbox: string;
let work: string;

/** Every file and folder under `dir`, relative to it. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) out.push(relative(dir, join(e.parentPath, e.name)));
  return out.sort();
}

beforeEach(async () => {
  // root/inbox holds the archives, root/work/models is where they are unpacked; the escapes below aim at root.
  root = await tempDir('ms-evil-');
  inbox = join(root, 'inbox');
  work = join(root, 'work', 'models');
  await mkdir(inbox);
  await mkdir(work, { recursive: true });
});

async function refuse(name: string, bytes: Uint8Array, reason: RegExp, maxUnpackedBytes?: number): Promise<void> {
  const file = join(inbox, name);
  await writeFile(file, bytes);
  const before = await tree(root);
  const opening = openArchive(file, { workDir: work, ...(maxUnpackedBytes ? { maxUnpackedBytes } : {}) });
  await expect(opening).rejects.toMatchObject({ code: 'INVALID_MODEL_ARCHIVE', status: 400 });
  await expect(opening).rejects.toThrow(reason);
  // Nothing was written anywhere: not outside the target, and no half-unpacked folder inside it.
  expect(await tree(root)).toEqual(before);
}

describe('malicious .mar (zip) archives are refused and write nothing', () => {
  it('path traversal entries', async () => {
    await refuse('dots.mar', evilZip({ '../../evil.txt': 'x' }), /relative path|escapes/);
    await refuse('mid.mar', evilZip({ 'a/../../../evil.txt': 'x' }), /relative path|escapes/);
    await refuse('backslash.mar', evilZip({ '..\\..\\evil.txt': 'x' }), /relative path|escapes/);
  });

  it('absolute paths', async () => {
    const target = join(root, 'abs-evil.txt');
    await refuse('abs.mar', evilZip({ [target]: 'x' }), /absolute path/);
    await refuse('drive.mar', evilZip({ 'C:/evil.txt': 'x' }), /absolute path/);
  });

  it('symbolic links', async () => {
    await refuse('link.mar', evilZip({}, { 'escape': root }), /symbolic link/);
    await refuse('link-then-file.mar', evilZip({ 'escape/evil.txt': 'x' }, { escape: root }), /symbolic link/);
  });

  it('entries that inflate beyond their declared size, and archives over the size cap', async () => {
    await refuse('lying.mar', lyingZip(1_000_000, 100), /size|too many|exceed|mismatch/i);
    await refuse('big.mar', evilZip({ 'big.bin': 'y'.repeat(10_000) }), /unpacked size exceeds 5000 bytes/, 5000);
  });

  it('duplicate entries', async () => {
    await refuse('dupe.mar', evilZip({ 'a.txt': 'one', './a.txt': 'two' }), /appears twice/);
  });
});

describe('malicious .tar.gz archives are refused and write nothing', () => {
  it('path traversal, absolute paths, symbolic and hard links', async () => {
    await refuse('dots.tar.gz', evilTgz([{ name: '../../evil.txt', body: 'x' }]), /escapes/);
    await refuse('abs.tar.gz', evilTgz([{ name: join(root, 'abs-evil.txt'), body: 'x' }]), /absolute path/);
    await refuse('link.tar.gz', evilTgz([{ name: 'escape', type: '2', linkname: root }, { name: 'escape/evil.txt', body: 'x' }]), /SymbolicLink/);
    await refuse('hard.tar.gz', evilTgz([{ name: 'hard', type: '1', linkname: '/etc/passwd' }]), /Link/);
  });

  it('archives over the size cap', async () => {
    await refuse('big.tar.gz', evilTgz([{ name: 'big.bin', body: 'y'.repeat(10_000) }]), /unpacked size exceeds 5000 bytes/, 5000);
  });
});

describe('archives that are fine', () => {
  it('open, from the same helpers (so the refusals above are about the entries)', async () => {
    const zip = join(inbox, 'ok.mar');
    await writeFile(zip, evilZip({ 'weights/a.bin': 'ok' }));
    const opened = await openArchive(zip, { workDir: work });
    expect(opened.manifest.model.modelName).toBe('evil');
    expect(await tree(opened.modelDir)).toEqual(['MAR-INF', 'MAR-INF/MANIFEST.json', 'handler.js', 'weights', 'weights/a.bin']);
    const tgz = join(inbox, 'ok.tar.gz');
    await writeFile(tgz, evilTgz([{ name: 'weights/a.bin', body: 'ok' }]));
    expect((await openArchive(tgz, { workDir: work })).manifest.model.modelVersion).toBe('1.0');
  });

  it('the management API answers a malicious archive with 400 InvalidModelException', async () => {
    const store = await tempDir();
    await buildModel(store, { name: 'fine' });
    await writeFile(join(store, 'evil.mar'), evilZip({ '../../evil.txt': 'x' }));
    const s = await startServer({ store, models: [], config: { enable_model_api: true, model_work_dir: work } });
    try {
      const r = await mgmt(s.management, 'POST', '/models?url=evil.mar');
      expect(r).toMatchObject({ status: 400, json: { code: 400, type: 'InvalidModelException' } });
      expect((await mgmt(s.management, 'POST', '/models?url=fine.mar&initial_workers=0')).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
