import { z } from 'zod';
import { ModelServerError } from './errors.js';
import { modelMetadataSchema } from './model-metadata.js';
import { isInt, isObj, isStringRecord, type Obj } from './shape-checks.js';

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: "expected bytes" });
const headers = z.record(z.string(), z.string());
const wireError = z.object({ code: z.string(), message: z.string(), status: z.number().int(), stack: z.string().optional() });

// Gateway -> worker messages are in to-worker.ts, checked without zod (a worker loads that module only).

// ---------------------------------------------------------------------------------------------------
// worker -> gateway
// ---------------------------------------------------------------------------------------------------
export const readyMessage = z.object({
  type: z.literal('ready'),
  pid: z.number().int(),
  loadTimeMs: z.number(),
  rssBytes: z.number(),
  /** The model's inputs and outputs, when the handler can tell (ONNX handlers read them from the session). */
  metadata: modelMetadataSchema.optional(),
});

export const loadFailedMessage = z.object({ type: z.literal('load_failed'), error: wireError });

const responseFields = {
  batchId: z.number().int(),
  requestId: z.string(),
  status: z.number().int(),
  contentType: z.string().optional(),
  headers,
  body: bytes,
};

/** A partial result (`sendIntermediatePredictResponse`); more chunks or a final response follow. */
export const chunkMessage = z.object({ type: z.literal('chunk'), ...responseFields });

/** The final result for one request. */
export const responseMessage = z.object({ type: z.literal('response'), ...responseFields });

/** An error for one request (`requestId`) or for every request of the batch still unanswered. */
export const errorMessage = z.object({
  type: z.literal('error'),
  batchId: z.number().int(),
  requestId: z.string().optional(),
  error: wireError,
});

/** Final marker of a batch: every request of it has been answered and the worker is free. */
export const batchEndMessage = z.object({
  type: z.literal('batch_end'),
  batchId: z.number().int(),
  handlerMs: z.number(),
  rssBytes: z.number(),
});

/** Handler-recorded metrics (`context.metrics`), shipped as data rather than parsed from stdout. */
export const metricsMessage = z.object({
  type: z.literal('metrics'),
  entries: z.array(
    z.object({
      name: z.string(),
      kind: z.enum(['counter', 'gauge', 'histogram']),
      value: z.number(),
      help: z.string().optional(),
      labels: z.record(z.string(), z.string()),
      buckets: z.array(z.number()).optional(),
    }),
  ),
});

export const fromWorkerSchema = z.discriminatedUnion('type', [
  readyMessage,
  loadFailedMessage,
  chunkMessage,
  responseMessage,
  errorMessage,
  batchEndMessage,
  metricsMessage,
]);

export type ReadyMessage = z.infer<typeof readyMessage>;
export type ChunkMessage = z.infer<typeof chunkMessage>;
export type ResponseMessage = z.infer<typeof responseMessage>;
export type ErrorMessage = z.infer<typeof errorMessage>;
export type BatchEndMessage = z.infer<typeof batchEndMessage>;
export type MetricsMessage = z.infer<typeof metricsMessage>;
export type MetricEntry = MetricsMessage['entries'][number];
export type FromWorker = z.infer<typeof fromWorkerSchema>;

function check<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new ModelServerError('MESSAGE_INVALID', { reason: `${where}${issue?.message ?? 'invalid'}` });
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------------
// Hand-written guards for the frequent messages (`response`, `chunk`, `batch_end`): zod
// costs a few percent of each process's CPU on these. A guard only ever accepts what the schema
// accepts and returns the same shape (unknown keys dropped); anything it does not accept goes to zod,
// which decides and names the offending field, so refusals and their messages are unchanged.
// ---------------------------------------------------------------------------------------------------
/** The fast guard of `response` and `chunk` (exported for the property test that ties it to the schema). */
export function fastResponse(v: Obj, type: 'response' | 'chunk'): ResponseMessage | ChunkMessage | undefined {
  const { batchId, requestId, status, contentType, headers: h, body } = v;
  if (!isInt(batchId) || typeof requestId !== 'string' || !isInt(status) || !isStringRecord(h) || !(body instanceof Uint8Array)) {
    return undefined;
  }
  if (contentType === undefined) {
    return 'contentType' in v
      ? { type, batchId, requestId, status, contentType: undefined, headers: h, body }
      : { type, batchId, requestId, status, headers: h, body };
  }
  if (typeof contentType !== 'string') return undefined;
  return { type, batchId, requestId, status, contentType, headers: h, body };
}

/** The fast guard of `batch_end` (exported for the property test that ties it to the schema). */
export function fastBatchEnd(v: Obj): BatchEndMessage | undefined {
  const { batchId, handlerMs, rssBytes } = v;
  if (!isInt(batchId) || !Number.isFinite(handlerMs) || !Number.isFinite(rssBytes)) return undefined;
  return { type: 'batch_end', batchId, handlerMs: handlerMs as number, rssBytes: rssBytes as number };
}

/** Validates a decoded value as a worker -> gateway message (MESSAGE_INVALID otherwise). */
export function parseFromWorker(value: unknown): FromWorker {
  if (isObj(value)) {
    let fast: FromWorker | undefined;
    if (value.type === 'response' || value.type === 'chunk') fast = fastResponse(value, value.type);
    else if (value.type === 'batch_end') fast = fastBatchEnd(value);
    if (fast) return fast;
  }
  return check(fromWorkerSchema, value);
}
