export * from './names.js';
export { openArchive, DEFAULT_MAX_UNPACKED_BYTES, MAX_ARCHIVE_ENTRIES, type OpenedArchive, type OpenArchiveOptions } from './archive.js';
export { parseManifest } from './manifest.js';
export { UnpackCache } from './unpack-cache.js';
export { ARCHIVE_FORMATS, archiveFileName, writeArchive, type ArchiveFormat, type ArchiveLayout } from './writer.js';
export { buildDag, MAX_WORKFLOW_NODES, type WorkflowDag } from './workflow-dag.js';
export { parseWorkflowManifest, WORKFLOW_MANIFEST_PATH, type WorkflowManifest } from './workflow-manifest.js';
export { nodeProperties, parseWorkflowSpec, WORKFLOW_DEFAULTS, type ModelNodeSpec, type NodeProperties, type SpecContext, type WorkflowSpec } from './workflow-spec.js';
export { openWorkflowArchive, type OpenedWorkflow } from './workflow-archive.js';
