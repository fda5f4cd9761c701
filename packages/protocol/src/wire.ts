/**
 * What a worker process needs of the protocol, without zod (about 10 MB of resident memory per
 * process): frames, msgpack, the error catalog, gateway -> worker messages and their checks, tensor
 * encoding. The package's main entry adds the zod schemas the gateway validates worker output with.
 * Worker-side packages import values from here only (eslint enforces it); types may come from either.
 */
export * from './errors.js';
export * from './grpc-status.js';
export * from './frame.js';
export * from './codec.js';
export * from './message-reader.js';
export * from './to-worker.js';
export * from './tensors.js';
export * from './message-writer.js';
export * from './sequences.js';
