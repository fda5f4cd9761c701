export * from './names.js';
export { openArchive, DEFAULT_MAX_UNPACKED_BYTES, MAX_ARCHIVE_ENTRIES, type OpenedArchive, type OpenArchiveOptions } from './archive.js';
export { parseManifest } from './manifest.js';
export { UnpackCache } from './unpack-cache.js';
export { ARCHIVE_FORMATS, archiveFileName, writeArchive, type ArchiveFormat, type ArchiveLayout } from './writer.js';
