export { createArchive, ArchiverError, ARCHIVE_FORMATS, BUILTIN_HANDLERS, MODEL_NAME_PATTERN, PROVIDED_PACKAGES, RUNTIMES, type ArchiveOptions, type ArchiveFormat } from './archiver.js';
export { typeCheckHandler } from './type-check.js';
