import { isAbsolute, resolve, sep } from 'node:path';
import { ModelServerError } from '@model-server/protocol/wire';

/**
 * Rejects entry names that could land outside the target folder (zip-slip) or are otherwise odd.
 * `what` names the path in the error (an archive entry, or a manifest field such as serializedFile).
 */
export function safeEntryPath(root: string, name: string, archive: string, what = 'entry'): string {
  const bad = (reason: string): never => {
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive, reason: `${what} "${name}" ${reason}` });
  };
  if (name.includes('\0')) bad('contains a NUL byte');
  if (isAbsolute(name) || /^[A-Za-z]:/.test(name) || name.startsWith('\\')) bad('is an absolute path');
  const parts = name.split(/[\\/]+/);
  if (parts.includes('..')) bad('escapes the archive folder');
  const target = resolve(root, name);
  if (target !== root && !target.startsWith(root + sep)) bad('escapes the archive folder');
  return target;
}
