export { createArchive, ArchiverError, BUILTIN_HANDLERS, MODEL_NAME_PATTERN, PROVIDED_PACKAGES, type ArchiveOptions, type ArchiveFormat } from './archiver.js';
