import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, GRPC_STATUS, ModelServerError, grpcStatusForHttp, type ErrorCode, type GrpcStatusName } from '@model-server/protocol';

const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| ([A-Z_]+) \| (\w+) \|/gm)].map((m) => [m[1]!, { status: Number(m[2]), grpc: m[3]!, type: m[4]! }]),
);

/** Entries whose gRPC status is not the one TorchServe's HTTP table gives, each with a closer gRPC code. */
const GRPC_EXCEPTIONS: Partial<Record<ErrorCode, GrpcStatusName>> = {
  METHOD_NOT_ALLOWED: 'UNIMPLEMENTED',
  MODEL_API_DISABLED: 'PERMISSION_DENIED',
  WORKFLOW_API_DISABLED: 'PERMISSION_DENIED',
  UNREGISTER_TIMEOUT: 'DEADLINE_EXCEEDED',
  UNSUPPORTED_MEDIA_TYPE: 'INVALID_ARGUMENT',
  STREAM_OVERFLOW: 'RESOURCE_EXHAUSTED',
  RESPONSE_TOO_LARGE: 'RESOURCE_EXHAUSTED',
  REQUEST_READ_TIMEOUT: 'DEADLINE_EXCEEDED',
  HEADERS_TOO_LARGE: 'RESOURCE_EXHAUSTED',
  WORKER_OOM: 'RESOURCE_EXHAUSTED',
};

describe('error catalog', () => {
  it('documents every code with its status, gRPC status and type', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
      expect(documented.get(code), `docs/errors.md is missing ${code}`).toEqual({ status: entry.status, grpc: entry.grpc, type: entry.type });
    }
  });

  it('documents no code that does not exist', () => {
    for (const code of documented.keys()) expect(Object.keys(ERROR_CATALOG), `docs/errors.md lists unknown ${code}`).toContain(code);
  });

  it('renders TorchServe error bodies from the catalog', () => {
    const err = new ModelServerError('MODEL_VERSION_NOT_FOUND', { model: 'mnist', version: '9' });
    expect(err.toJSON()).toEqual({
      code: 404,
      type: 'ModelVersionNotFoundException',
      message: 'Model version: 9 does not exist for model: mnist',
      errorCode: 'MODEL_VERSION_NOT_FOUND',
    });
  });

  it("gives every code the gRPC status of TorchServe's HTTP mapping, or a documented closer one", () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOG) as [ErrorCode, (typeof ERROR_CATALOG)[ErrorCode]][]) {
      expect(entry.grpc, code).toBe(GRPC_EXCEPTIONS[code] ?? grpcStatusForHttp(entry.status));
      expect(new ModelServerError(code).grpcStatus, code).toBe(GRPC_STATUS[entry.grpc]);
    }
    for (const [code, grpc] of Object.entries(GRPC_EXCEPTIONS)) {
      expect(grpcStatusForHttp(ERROR_CATALOG[code as ErrorCode].status), `${code} is no exception`).not.toBe(grpc);
    }
  });

  it('maps the issue\'s situations to the expected gRPC codes', () => {
    const cases: [ErrorCode, GrpcStatusName][] = [
      ['MODEL_NOT_FOUND', 'NOT_FOUND'],
      ['INVALID_INPUT', 'INVALID_ARGUMENT'],
      ['QUEUE_FULL', 'UNAVAILABLE'],
      ['REQUEST_TIMEOUT', 'DEADLINE_EXCEEDED'],
      ['REQUEST_CANCELLED', 'CANCELLED'],
      ['HANDLER_ERROR', 'INTERNAL'],
      ['UNAUTHORIZED', 'UNAUTHENTICATED'],
      ['REQUEST_TOO_LARGE', 'RESOURCE_EXHAUSTED'],
      ['CONFLICT', 'ALREADY_EXISTS'],
    ];
    for (const [code, grpc] of cases) expect(new ModelServerError(code).grpcStatus, code).toBe(GRPC_STATUS[grpc]);
  });

  it("maps a handler's own status through TorchServe's table", () => {
    const status = (http: number): number => new ModelServerError('HANDLER_ERROR', { message: 'x' }, { status: http }).grpcStatus;
    expect(status(500)).toBe(GRPC_STATUS.INTERNAL);
    expect(status(400)).toBe(GRPC_STATUS.INVALID_ARGUMENT);
    expect(status(404)).toBe(GRPC_STATUS.NOT_FOUND);
    expect(status(409)).toBe(GRPC_STATUS.ALREADY_EXISTS);
    expect(status(418)).toBe(GRPC_STATUS.FAILED_PRECONDITION);
    expect(status(429)).toBe(GRPC_STATUS.RESOURCE_EXHAUSTED);
    expect(status(503)).toBe(GRPC_STATUS.UNAVAILABLE);
    expect(status(507)).toBe(GRPC_STATUS.INTERNAL);
    expect(grpcStatusForHttp(200)).toBe('OK');
    expect(grpcStatusForHttp(302)).toBe('UNKNOWN');
  });
});
