import { GRPC_STATUS, grpcStatusForHttp, type GrpcStatusName } from './grpc-status.js';

/**
 * The one error catalog of the project. Every error a client, a log line or a worker can see is an
 * entry here: a stable code, TorchServe's exception type name (so existing clients keep matching on
 * it), an HTTP status, the gRPC status the gRPC APIs answer with, and a message template whose
 * `{placeholders}` are filled from `params`.
 *
 * The gRPC status follows the HTTP status through TorchServe's table (`grpcStatusForHttp`), except where
 * gRPC has a closer code: 405 is UNIMPLEMENTED (MODEL_API_DISABLED: PERMISSION_DENIED, as TorchServe),
 * 408 DEADLINE_EXCEEDED, 415 INVALID_ARGUMENT, and a slow stream consumer or an oversized response
 * RESOURCE_EXHAUSTED. A test holds every entry to this rule.
 *
 * Code ranges: request/API errors first, then model and worker errors, then protocol (frame) errors.
 * docs/errors.md lists every code; a test keeps the two in sync.
 */
export const ERROR_CATALOG = {
  // --- request and API errors -------------------------------------------------------------------
  BAD_REQUEST: { status: 400, grpc: 'INVALID_ARGUMENT', type: 'BadRequestException', message: '{reason}' },
  INVALID_INPUT: { status: 400, grpc: 'INVALID_ARGUMENT', type: 'BadRequestException', message: 'Invalid input: {reason}' },
  UNAUTHORIZED: {
    status: 401,
    grpc: 'UNAUTHENTICATED',
    type: 'InvalidKeyException',
    message: 'Token Authorization failed. Token either incorrect, expired, or not provided correctly',
  },
  FORBIDDEN: { status: 403, grpc: 'PERMISSION_DENIED', type: 'InvalidModelVersionException', message: '{reason}' },
  RESOURCE_NOT_FOUND: {
    status: 404,
    grpc: 'NOT_FOUND',
    type: 'ResourceNotFoundException',
    message: 'Requested resource is not found, please refer to API document.',
  },
  MODEL_NOT_FOUND: { status: 404, grpc: 'NOT_FOUND', type: 'ModelNotFoundException', message: 'Model not found: {model}' },
  MODEL_VERSION_NOT_FOUND: {
    status: 404,
    grpc: 'NOT_FOUND',
    type: 'ModelVersionNotFoundException',
    message: 'Model version: {version} does not exist for model: {model}',
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    grpc: 'UNIMPLEMENTED',
    type: 'MethodNotAllowedException',
    message: 'Requested method is not allowed, please refer to API document.',
  },
  CONFLICT: { status: 409, grpc: 'ALREADY_EXISTS', type: 'ConflictStatusException', message: '{reason}' },
  // --- management API ------------------------------------------------------------------------------
  MODEL_API_DISABLED: {
    status: 405,
    grpc: 'PERMISSION_DENIED',
    type: 'MethodNotAllowedException',
    message: 'Registering and unregistering models is disabled; start the server with --enable-model-api (enable_model_api=true)',
  },
  WORKFLOW_API_DISABLED: {
    status: 405,
    grpc: 'PERMISSION_DENIED',
    type: 'MethodNotAllowedException',
    message: 'Registering and unregistering workflows is disabled; start the server with --enable-model-api (enable_model_api=true)',
  },
  URL_NOT_ALLOWED: { status: 404, grpc: 'NOT_FOUND', type: 'ModelNotFoundException', message: 'Given URL {url} does not match any allowed URL(s)' },
  // 404 and ModelNotFoundException as TorchServe answers a relative path or an unmatched URL.
  URL_UNSAFE: { status: 404, grpc: 'NOT_FOUND', type: 'ModelNotFoundException', message: 'Model URL {url} is refused: {reason}' },
  DOWNLOAD_FAILED: { status: 400, grpc: 'INVALID_ARGUMENT', type: 'DownloadArchiveException', message: 'Failed to download archive from: {url}: {reason}' },
  // The peer the gateway downloads from did not answer in time: 504, as a gateway timing out upstream.
  DOWNLOAD_TIMEOUT: { status: 504, grpc: 'DEADLINE_EXCEEDED', type: 'DownloadArchiveException', message: 'Timed out downloading archive from: {url}: {reason}' },
  WORKERS_START_FAILED: {
    status: 500,
    grpc: 'INTERNAL',
    type: 'InternalServerException',
    message: 'Failed to start workers for model {model} version: {version}: {reason}',
  },
  UNREGISTER_TIMEOUT: { status: 408, grpc: 'DEADLINE_EXCEEDED', type: 'RequestTimeoutException', message: 'Timed out while cleaning resources: {model}' },
  REQUEST_TOO_LARGE: {
    status: 413,
    grpc: 'RESOURCE_EXHAUSTED',
    type: 'RequestEntityTooLargeException',
    message: 'Request body exceeds max_request_size ({limit} bytes)',
  },
  REQUEST_READ_TIMEOUT: {
    status: 408,
    grpc: 'DEADLINE_EXCEEDED',
    type: 'RequestTimeoutException',
    message: 'The request was not received in time (request_read_timeout)',
  },
  HEADERS_TOO_LARGE: { status: 431, grpc: 'RESOURCE_EXHAUSTED', type: 'BadRequestException', message: 'Request header fields too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, grpc: 'INVALID_ARGUMENT', type: 'BadRequestException', message: 'Unsupported content type: {contentType}' },
  // --- capacity, deadlines, cancellation ----------------------------------------------------------
  QUEUE_FULL: {
    status: 503,
    grpc: 'UNAVAILABLE',
    type: 'ServiceUnavailableException',
    message: 'Model "{model}" Version {version} has too many queued requests (job queue of {capacity} is full). Retry later.',
  },
  NO_WORKER: {
    status: 503,
    grpc: 'UNAVAILABLE',
    type: 'ServiceUnavailableException',
    message: 'Model "{model}" Version {version} has no worker to serve inference request. Please use scale workers API to add workers.',
  },
  MODEL_LOAD_FAILING: {
    status: 503,
    grpc: 'UNAVAILABLE',
    type: 'ServiceUnavailableException',
    message: 'Model "{model}" Version {version} cannot serve: its workers fail to load ({reason}); retrying in {retryAfter} s',
  },
  MODEL_NOT_READY: { status: 503, grpc: 'UNAVAILABLE', type: 'ServiceUnavailableException', message: 'Model "{model}" Version {version} is not ready: {reason}' },
  SERVER_DRAINING: {
    status: 503,
    grpc: 'UNAVAILABLE',
    type: 'ServiceUnavailableException',
    message: 'The server is shutting down and takes no new requests; retry on another replica',
  },
  SERVER_NOT_READY: { status: 503, grpc: 'UNAVAILABLE', type: 'ServiceUnavailableException', message: 'Server is not ready: {reason}' },
  STATUS_STREAMS_LIMIT: { status: 503, grpc: 'UNAVAILABLE', type: 'ServiceUnavailableException', message: 'Too many status streams are open (at most {limit}); close one and retry' },
  REQUEST_TIMEOUT: {
    status: 504,
    grpc: 'DEADLINE_EXCEEDED',
    type: 'RequestTimeoutException',
    message: 'Request {requestId} exceeded its deadline of {timeoutMs} ms while {phase}',
  },
  REQUEST_CANCELLED: { status: 499, grpc: 'CANCELLED', type: 'RequestCancelledException', message: 'Request {requestId} was cancelled: {reason}' },
  STREAM_OVERFLOW: {
    status: 503,
    grpc: 'RESOURCE_EXHAUSTED',
    type: 'ServiceUnavailableException',
    message: 'Stream consumer too slow: more than {limit} chunks buffered for request {requestId}',
  },
  // --- stateful sequences (sequenceBatching) ------------------------------------------------------
  SEQUENCE_NOT_FOUND: {
    status: 404,
    grpc: 'NOT_FOUND',
    type: 'BadRequestException',
    message: 'Sequence {sequenceId} is not open for model "{model}": start a sequence with its first request ({how})',
  },
  // 410 Gone; gRPC FAILED_PRECONDITION (the sequence must be restarted), as for other 4xx.
  SEQUENCE_ENDED: { status: 410, grpc: 'FAILED_PRECONDITION', type: 'BadRequestException', message: 'Sequence {sequenceId} of model "{model}" has ended: {reason}. Start a new sequence' },
  SEQUENCE_LIMIT: {
    status: 503,
    grpc: 'UNAVAILABLE',
    type: 'ServiceUnavailableException',
    message:
      'Model "{model}" Version {version} has {limit} open sequences (maxNumSequence). Were your sequences closed (ts_request_sequence_end), or left to expire after {idleMs} ms idle? Retry later.',
  },
  SEQUENCE_QUEUE_FULL: {
    status: 503,
    grpc: 'UNAVAILABLE',
    type: 'ServiceUnavailableException',
    message: 'Sequence {sequenceId} already has {capacity} requests waiting (maxSequenceJobQueueSize); send the next once one is answered. Retry later.',
  },
  SEQUENCE_LOST: {
    status: 500,
    grpc: 'INTERNAL',
    type: 'InternalServerException',
    message: 'Sequence {sequenceId} ended: {reason}; the state it kept is lost. Start a new sequence',
  },
  // --- model, handler and worker errors -----------------------------------------------------------
  HANDLER_ERROR: { status: 500, grpc: 'INTERNAL', type: 'InternalServerException', message: '{message}' },
  BATCH_SIZE_MISMATCH: {
    status: 500,
    grpc: 'INTERNAL',
    type: 'InternalServerException',
    message: 'number of batch response mismatched: handler returned {got} results for a batch of {expected}',
  },
  HANDLER_NOT_FOUND: { status: 500, grpc: 'INTERNAL', type: 'InternalServerException', message: 'No handler exported from {file}' },
  MODEL_LOAD_FAILED: { status: 500, grpc: 'INTERNAL', type: 'InternalServerException', message: 'Failed to load model {model}: {reason}' },
  INVALID_MODEL_ARCHIVE: { status: 400, grpc: 'INVALID_ARGUMENT', type: 'InvalidModelException', message: 'Invalid model archive {archive}: {reason}' },
  // --- workflows (DAGs of models and functions) -----------------------------------------------------
  WORKFLOW_NOT_FOUND: { status: 404, grpc: 'NOT_FOUND', type: 'WorkflowNotFoundException', message: 'Workflow not found: {workflow}' },
  INVALID_WORKFLOW_ARCHIVE: { status: 400, grpc: 'INVALID_ARGUMENT', type: 'InvalidWorkflowException', message: 'Invalid workflow archive {archive}: {reason}' },
  // TorchServe's exception name for a graph it refuses.
  WORKFLOW_DAG_INVALID: { status: 400, grpc: 'INVALID_ARGUMENT', type: 'InvalidDAGException', message: 'Invalid workflow DAG in {archive}: {reason}' },
  // The status is the node's own (a 4xx refusal of the input, a 5xx fault, 503 overload), 500 in the catalog.
  WORKFLOW_NODE_FAILED: {
    status: 500,
    grpc: 'INTERNAL',
    type: 'WorkflowException',
    message: 'Workflow {workflow}: node {node} failed after {attempts} attempt(s): {reason}',
  },
  WORKFLOW_NODE_TIMEOUT: {
    status: 504,
    grpc: 'DEADLINE_EXCEEDED',
    type: 'WorkflowException',
    message: 'Workflow {workflow}: node {node} timed out after {timeoutMs} ms, {attempts} attempt(s)',
  },
  WORKER_DIED: { status: 500, grpc: 'INTERNAL', type: 'InternalServerException', message: 'Worker died. ({reason})' },
  WORKER_OOM: { status: 507, grpc: 'RESOURCE_EXHAUSTED', type: 'InternalServerException', message: 'Worker ran out of memory. ({reason})' },
  RESPONSE_TOO_LARGE: {
    status: 500,
    grpc: 'RESOURCE_EXHAUSTED',
    type: 'InternalServerException',
    message: 'Response exceeds max_response_size ({limit} bytes)',
  },
  INTERNAL: { status: 500, grpc: 'INTERNAL', type: 'InternalServerException', message: '{message}' },
  CONFIG_INVALID: { status: 500, grpc: 'INTERNAL', type: 'ConfigurationException', message: 'Invalid configuration in {file}: {reason}' },
  LISTEN_FAILED: { status: 500, grpc: 'INTERNAL', type: 'ConfigurationException', message: 'Cannot listen on {address} ({key}): {reason}' },
  // --- wire protocol errors (gateway <-> worker); the connection is closed after each of these ------
  FRAME_TOO_LARGE: {
    status: 500,
    grpc: 'INTERNAL',
    type: 'InternalServerException',
    message: 'Frame of {length} bytes exceeds the limit of {limit} bytes',
  },
  FRAME_MALFORMED: { status: 500, grpc: 'INTERNAL', type: 'InternalServerException', message: 'Malformed frame: {reason}' },
  MESSAGE_INVALID: { status: 500, grpc: 'INTERNAL', type: 'InternalServerException', message: 'Invalid protocol message: {reason}' },
} as const satisfies Record<string, { status: number; grpc: GrpcStatusName; type: string; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Fills `{name}` placeholders; an unknown placeholder stays visible rather than vanishing. */
export function formatMessage(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in params ? String(params[key]) : whole));
}

/** The error every layer throws. Renderers (TorchServe JSON, OIP `{error}`) read `code`, `status` and `type`. */
export class ModelServerError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  /** The values the message was made from, for renderers that need one (Retry-After, say). */
  readonly params: Readonly<Record<string, unknown>>;
  /** For an error that came from a worker: the handler's stack trace there, when it had one. */
  workerStack: string | undefined;

  constructor(code: ErrorCode, params: Record<string, unknown> = {}, options?: { cause?: unknown; status?: number }) {
    const entry = ERROR_CATALOG[code];
    super(formatMessage(entry.message, params), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelServerError';
    this.code = code;
    this.status = options?.status ?? entry.status;
    this.type = entry.type;
    this.params = params;
    this.workerStack = undefined;
  }

  /**
   * The gRPC status code number: the catalog's, unless the error carries a status of its own (a
   * handler's `PredictionError(message, 400)`), which maps through TorchServe's table.
   */
  get grpcStatus(): number {
    const entry = ERROR_CATALOG[this.code];
    return GRPC_STATUS[this.status === entry.status ? entry.grpc : grpcStatusForHttp(this.status)];
  }

  /** TorchServe's error body shape. */
  toJSON(): { code: number; type: string; message: string; errorCode: ErrorCode } {
    return { code: this.status, type: this.type, message: this.message, errorCode: this.code };
  }
}

/** A plain-data form of an error, as it travels in protocol messages. */
export interface WireError {
  code: string;
  message: string;
  status: number;
  /** The stack of the handler's exception (source-mapped in the worker), for the gateway's log. */
  stack?: string;
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, value);
}

/** Rebuilds a ModelServerError from its wire form, keeping the worker's message verbatim. */
export function fromWireError(wire: WireError): ModelServerError {
  const code: ErrorCode = isErrorCode(wire.code) ? wire.code : 'INTERNAL';
  const err = new ModelServerError(code, {}, { status: wire.status });
  Object.defineProperty(err, 'message', { value: wire.message });
  err.workerStack = wire.stack;
  return err;
}

export function toWireError(err: unknown, status?: number): WireError {
  const stack = err instanceof Error && err.stack ? { stack: err.stack } : {};
  if (err instanceof ModelServerError) return { code: err.code, message: err.message, status: status ?? err.status, ...stack };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'HANDLER_ERROR', message: message || 'handler failed', status: status ?? 500, ...stack };
}
