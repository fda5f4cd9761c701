import { fileURLToPath } from 'node:url';

/** Path of the worker's process entry, for the gateway to spawn. */
export const WORKER_ENTRY = fileURLToPath(new URL('./main.js', import.meta.url));
