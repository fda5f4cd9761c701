export { claimRootNames, createArchive, formatCreatedOn, mustExist, ArchiverError, ARCHIVE_FORMATS, BUILTIN_HANDLERS, MODEL_NAME_PATTERN, PROVIDED_PACKAGES, RUNTIMES, type ArchiveOptions, type ArchiveFormat } from './archiver.js';
export { bundleHandler, type BundleResult } from './bundle.js';
export { typeCheckHandler } from './type-check.js';
