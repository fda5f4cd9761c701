import { fileURLToPath } from 'node:url';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

/**
 * The .proto files that define the gRPC APIs. They ship with this package (`proto/`), so clients in
 * any language generate their stubs from the same files the server loads; the tests and benchmarks do.
 */
export const GRPC_PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url));

export const GRPC_PROTO_FILES: readonly string[] = [
  'torchserve/inference.proto',
  'torchserve/management.proto',
  'kserve/grpc_service.proto',
  'grpc/health/v1/health.proto',
  'google/rpc/error_details.proto',
];

/** Full names of the services, as they appear in every method path (`/<service>/<Rpc>`). */
export const GRPC_SERVICES = {
  torchServeInference: 'org.pytorch.serve.grpc.inference.InferenceAPIsService',
  torchServeManagement: 'org.pytorch.serve.grpc.management.ManagementAPIsService',
  openInference: 'inference.GRPCInferenceService',
  health: 'grpc.health.v1.Health',
} as const;

/**
 * How the server reads messages: field names as in the .proto files, enums as names, every field
 * present (defaults), a virtual field naming the member set in each oneof, and 64-bit integers as
 * decimal strings, which keeps INT64/UINT64 tensor contents exact (shapes and parameters are converted
 * to numbers where they are read).
 */
export const SERVER_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Loads every service and message; `options` add to or override the server's (clients may prefer `longs: Number`). */
export function loadGrpcDefinitions(options: Options = {}): PackageDefinition {
  return loadSync([...GRPC_PROTO_FILES], { ...SERVER_LOADER_OPTIONS, ...options, includeDirs: [GRPC_PROTO_DIR] });
}
