/**
 * gRPC status codes (the numbers travel in `grpc-status` and in `google.rpc.Status.code`), and how an
 * HTTP status maps onto them. Kept beside the error catalog, which names a gRPC status for every code,
 * so that REST and gRPC answers come from one table.
 */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusName = keyof typeof GRPC_STATUS;

const BY_HTTP: Readonly<Record<number, GrpcStatusName>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  // TorchServe maps 409 to ABORTED; a conflict here is "already registered", which gRPC calls ALREADY_EXISTS.
  409: 'ALREADY_EXISTS',
  413: 'RESOURCE_EXHAUSTED',
  416: 'OUT_OF_RANGE',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/**
 * TorchServe's mapping of an HTTP status to a gRPC status (its GRPCUtils), for statuses that a handler
 * chose (`PredictionError(message, status)`, `setResponseStatus`) rather than the catalog.
 */
export function grpcStatusForHttp(status: number): GrpcStatusName {
  if (status >= 200 && status < 300) return 'OK';
  const exact = BY_HTTP[status];
  if (exact) return exact;
  if (status >= 400 && status < 500) return 'FAILED_PRECONDITION';
  if (status >= 500 && status < 600) return 'INTERNAL';
  return 'UNKNOWN';
}
