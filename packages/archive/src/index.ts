export * from './names.js';
export { openArchive, DEFAULT_MAX_UNPACKED_BYTES, MAX_ARCHIVE_ENTRIES, type OpenedArchive, type OpenArchiveOptions } from './archive.js';
export { parseManifest } from './manifest.js';
export { UnpackCache } from './unpack-cache.js';
export { ARCHIVE_FORMATS, archiveFileName, writeArchive, type ArchiveFormat, type ArchiveLayout } from './writer.js';
export { openModels, type OpenedModel } from './open-model.js';
export { isRawModelEntry, resolveModelSources, RAW_MODEL_VERSION, type ModelSource } from './raw-onnx.js';
export { parsePbtxt, PbtxtError, type PbMessage, type PbValue } from './pbtxt.js';
