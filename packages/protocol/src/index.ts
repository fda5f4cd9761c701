export * from './errors.js';
export * from './frame.js';
export * from './codec.js';
export * from './messages.js';
export * from './message-reader.js';
export * from './model-metadata.js';
export * from './tensors.js';
