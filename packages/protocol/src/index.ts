export * from './wire.js';
export * from './messages.js';
export * from './model-metadata.js';
