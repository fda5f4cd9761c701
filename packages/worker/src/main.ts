#!/usr/bin/env node
/**
 * Worker process entry. Started by the gateway as
 *   node main.js --socket <path> --max-request-bytes <n> --max-response-bytes <n>
 * It connects to the gateway's Unix socket, waits for `load`, loads the archive's handler, answers
 * `ready` (or `load_failed`), then runs one `predict` batch at a time until `stop` or until the
 * gateway goes away.
 */
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import {
  MessageReader,
  MessageWriter,
  ModelServerError,
  PROTOCOL_VERSION,
  parseToWorker,
  toWireError,
  type LoadMessage,
  type ToWorker,
} from '@model-server/protocol/wire';
import type { FromWorker } from '@model-server/protocol';
import type { Handler, Manifest } from '@model-server/sdk';
import { BatchRunner } from './batch-runner.js';
import { WorkerContext } from './context.js';
import { loadHandler } from './handler-loader.js';

const FRAME_OVERHEAD_BYTES = 64 * 1024;

const { values } = parseArgs({
  options: {
    socket: { type: 'string' },
    'max-request-bytes': { type: 'string', default: String(6_553_500) },
    'max-response-bytes': { type: 'string', default: String(6_553_500) },
  },
});
if (!values.socket) {
  process.stderr.write('worker: --socket is required\n');
  process.exit(2);
}
const maxRequestBytes = Number(values['max-request-bytes']);
const maxResponseBytes = Number(values['max-response-bytes']);

// A handler's stack traces point at its own .ts lines (the archiver bundles it with a source map).
process.setSourceMapsEnabled(true);
// Ctrl-C reaches every process of the terminal's group; the gateway decides when its workers stop
// (it sends `stop`, or closes the connection), so a worker does not die of it first.
process.on('SIGINT', () => undefined);

const socket: Socket = connect(values.socket);
socket.setNoDelay(true);
const writer = new MessageWriter<FromWorker>();
writer.attach(socket);

/**
 * Writes messages, several in one go: a batch's answers leave in one syscall, not one each. Resolves at
 * once unless the socket's buffer is full (then on `drain`).
 */
function send(...messages: FromWorker[]): Promise<void> {
  return writer.send(...messages);
}

let handler: Handler | undefined;
let runner: BatchRunner | undefined;
let reader: MessageReader<ToWorker> = new MessageReader(maxRequestBytes + FRAME_OVERHEAD_BYTES, parseToWorker);
/** Batches run strictly one after another, in arrival order. */
let queue: Promise<void> = Promise.resolve();

async function load(msg: LoadMessage): Promise<void> {
  const started = performance.now();
  try {
    if (msg.protocolVersion !== PROTOCOL_VERSION) {
      throw new ModelServerError('MESSAGE_INVALID', {
        reason: `protocol version ${msg.protocolVersion} (worker speaks ${PROTOCOL_VERSION})`,
      });
    }
    // The batch frame may carry batchSize requests, each up to max_request_size.
    reader = new MessageReader(msg.batchSize * maxRequestBytes + FRAME_OVERHEAD_BYTES, parseToWorker);
    // The gateway opened and validated the archive; re-reading it here would load zod and yaml into
    // every worker for nothing.
    const manifest = msg.manifest as unknown as Manifest;
    const context = new WorkerContext({
      modelName: msg.modelName,
      modelVersion: msg.modelVersion,
      modelDir: msg.modelDir,
      manifest,
      modelConfig: msg.modelConfig,
      batchSize: msg.batchSize,
    });
    handler = await loadHandler(msg.modelDir, manifest.model.handler);
    await handler.initialize?.(context);
    runner = new BatchRunner(handler, context, send, maxResponseBytes);
    const metadata = handler.metadata?.();
    await send({
      type: 'ready',
      pid: process.pid,
      loadTimeMs: performance.now() - started,
      rssBytes: process.memoryUsage.rss(),
      ...(metadata ? { metadata } : {}),
    });
  } catch (err) {
    const wire = toWireError(err);
    if (!(err instanceof ModelServerError)) wire.code = 'MODEL_LOAD_FAILED';
    process.stderr.write(`worker: load failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await send({ type: 'load_failed', error: wire }).catch(() => undefined);
    shutdown(1);
  }
}

/** Chains a step after the previous ones; a failure of the worker's own machinery ends the process loudly. */
function enqueue(step: () => Promise<void>): void {
  queue = queue.then(step).catch((err: unknown) => {
    process.stderr.write(`worker: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(70);
  });
}

function dispatch(msg: ToWorker): void {
  switch (msg.type) {
    default:
      msg satisfies never;
      return;
    case 'load':
      enqueue(() => load(msg));
      return;
    case 'predict':
      runner?.received(msg);
      enqueue(async () => {
        if (!runner) throw new Error('predict before load: this is a bug in the gateway');
        await runner.run(msg);
      });
      return;
    case 'cancel':
      // Not queued: a cancel must reach the batch that is running now.
      runner?.cancel(msg.requestId, msg.reason);
      return;
    case 'sequence_end':
      // In order with the batches: the sequence's last request has run before its state is freed.
      enqueue(async () => runner?.endSequence(msg.sequenceId, msg.reason));
      return;
    case 'stop':
      enqueue(async () => shutdown(0));
      return;
  }
}

let stopping = false;
function shutdown(code: number): void {
  if (stopping) return;
  stopping = true;
  void Promise.resolve(handler?.close?.())
    .catch(() => undefined)
    .finally(() => {
      socket.end(() => process.exit(code));
      setTimeout(() => process.exit(code), 1000).unref();
    });
}

socket.on('data', (chunk: Buffer) => {
  let messages: ToWorker[];
  try {
    messages = reader.push(chunk);
  } catch (err) {
    // A broken frame stream cannot be resynchronised: report and leave; the gateway restarts us.
    process.stderr.write(`worker: protocol error ${(err as ModelServerError).code ?? ''}: ${(err as Error).message}\n`);
    socket.destroy();
    process.exit(3);
  }
  for (const msg of messages) dispatch(msg);
});
socket.on('error', (err: NodeJS.ErrnoException) => {
  // The gateway going away resets the connection; the close that follows ends the worker quietly.
  if (stopping || err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
  process.stderr.write(`worker: socket error: ${err.message}\n`);
});
// Without the gateway there is nobody to answer: exit rather than linger as an orphan.
socket.on('close', () => shutdown(0));
process.on('unhandledRejection', (err) => {
  process.stderr.write(`worker: unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(70);
});
