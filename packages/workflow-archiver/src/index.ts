export { createWorkflowArchive, WORKFLOW_ARCHIVER_VERSION, type WorkflowArchiveOptions } from './archiver.js';
