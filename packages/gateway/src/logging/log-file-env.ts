/** Set by `model-server start` (detached) to the file the server logs to, rotated by size. */
export const LOG_FILE_ENV = 'MODEL_SERVER_LOG_FILE';
