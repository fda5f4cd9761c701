import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ModelServerError, SEQUENCE_END_HEADER, SEQUENCE_ID_HEADER, flagValue, type InferenceInput } from '@model-server/protocol';
import type { Logger } from '../logging/logger.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { InferenceJob, ResponsePart, ResponseSink } from '../scheduling/job.js';
import { assertJsonDepth } from './json-depth.js';
import { publicRequestId, REQUEST_ID_HEADER, submitJob } from '../scheduling/submit-job.js';
import { asModelServerError, errorHeaders } from './send-error.js';
import { isTextual } from './sse-sink.js';
import { StreamBudget } from './stream-budget.js';
import { pathSegments } from './url.js';
import { webSocketTarget } from '../routing/routes.js';
import { SocketSequence } from './socket-sequence.js';

export interface WebSocketDeps {
  registry: ModelRegistry;
  maxRequestBytes: number;
  maxBufferedChunks: number;
  logger: Logger;
  /** Optional gate run on the upgrade request (authorization); throws to refuse. */
  authorize?: (req: IncomingMessage) => void;
}

/** Bytes queued in a socket past which further chunks count against the stream's budget. */
const WS_HIGH_WATER_BYTES = 1 << 20;

/** A text message from the client: one inference request. A binary message is a raw `body` instead. */
interface ClientMessage {
  id?: string;
  /** Becomes the input `body`: a string as text, anything else as JSON. */
  body?: unknown;
  /** Named inputs; string values as text, others as JSON. */
  inputs?: Record<string, unknown>;
  contentType?: string;
  headers?: Record<string, string>;
  /** For a stateful model: the socket's sequence (only the first message may name it). */
  sequence_id?: string;
  /** For a stateful model: this is the sequence's last request. */
  sequence_end?: boolean;
}

function refuseUpgrade(socket: Duplex, err: ModelServerError): void {
  const body = JSON.stringify(err.toJSON());
  // The same extra headers as any error answer (WWW-Authenticate on 401, Retry-After on overload).
  const extra = Object.entries(errorHeaders(err))
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${err.status} ${err.type}\r\nconnection: close\r\n${extra}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function toInput(name: string, value: unknown, contentType?: string): InferenceInput {
  if (typeof value === 'string') return { name, contentType: contentType ?? 'text/plain; charset=utf-8', data: Buffer.from(value) };
  return { name, contentType: contentType ?? 'application/json', data: Buffer.from(JSON.stringify(value ?? null)) };
}

/**
 * A header value from a client's message: strings as they are, numbers and booleans as text. Anything
 * else is refused: String() of an object is "[object Object]" at best, and throws for one whose
 * toString is not a function.
 */
function headerValue(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ModelServerError('BAD_REQUEST', { reason: `header "${name}" must be a string, a number or a boolean` });
}

function send(ws: WebSocket, message: Record<string, unknown>): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}

/** Sends a job's chunks and result as JSON messages tagged with the request id. */
class WebSocketSink implements ResponseSink {
  private readonly budget: StreamBudget;

  constructor(
    private readonly ws: WebSocket,
    private readonly id: string,
    maxBufferedChunks: number,
  ) {
    this.budget = new StreamBudget(maxBufferedChunks, id);
  }

  private payload(type: string, part: ResponsePart): Record<string, unknown> {
    const text = isTextual(part.contentType);
    return {
      id: this.id,
      type,
      status: part.status,
      ...(part.contentType ? { contentType: part.contentType } : {}),
      encoding: text ? 'utf8' : 'base64',
      data: Buffer.from(part.body.buffer, part.body.byteOffset, part.body.byteLength).toString(text ? 'utf8' : 'base64'),
    };
  }

  chunk(part: ResponsePart): void {
    send(this.ws, this.payload('chunk', part));
    this.budget.wrote(this.ws.bufferedAmount > WS_HIGH_WATER_BYTES);
  }

  complete(part: ResponsePart): void {
    send(this.ws, this.payload('complete', part));
  }

  fail(error: ModelServerError): void {
    send(this.ws, { id: this.id, type: 'error', status: error.status, error: error.toJSON() });
  }
}

/**
 * WebSocket streaming on the inference port: `GET /predictions/{model}[/{version}]/ws`, upgraded. Each
 * client message is one request; replies (`accepted`, `chunk`, `complete`, `error`) carry its id, so
 * one socket carries many concurrent requests. Closing the socket cancels every request it started.
 * For a stateful model the socket carries one sequence (see SocketSequence), named on `accepted`.
 */
export function attachWebSocket(server: Server, deps: WebSocketDeps): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxRequestBytes });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const segments = pathSegments(req.url);
    const target = segments && webSocketTarget(segments);
    if (!target) {
      refuseUpgrade(socket, new ModelServerError('RESOURCE_NOT_FOUND'));
      return;
    }
    const { model, version } = target;
    try {
      deps.authorize?.(req);
      deps.registry.resolve(model, version);
    } catch (err) {
      refuseUpgrade(socket, asModelServerError(err));
      return;
    }
    const queryId = new URLSearchParams(req.url?.split('?')[1] ?? '').get('sequence_id') ?? undefined;
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, model, version, deps, new SocketSequence(queryId || undefined)));
  });
  return wss;
}

function serve(ws: WebSocket, model: string, version: string | undefined, deps: WebSocketDeps, sequence: SocketSequence): void {
  const jobs = new Set<InferenceJob>();
  const sequencesOf = () => deps.registry.resolve(model, version).sequences;
  ws.on('message', (data: RawData, isBinary: boolean) => {
    // The client's `id` tags the replies; it is data, never the job's key (two clients may use the same).
    let id: string = randomUUID();
    try {
      let inputs: InferenceInput[];
      let headers: Record<string, string> = {};
      let named: string | undefined;
      let end = false;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        inputs = [{ name: 'body', contentType: 'application/octet-stream', data: bytes }];
      } else {
        let msg: ClientMessage;
        try {
          msg = JSON.parse(bytes.toString('utf8')) as ClientMessage;
        } catch {
          throw new ModelServerError('BAD_REQUEST', { reason: 'WebSocket text messages must be JSON objects' });
        }
        if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
          throw new ModelServerError('BAD_REQUEST', { reason: 'WebSocket text messages must be JSON objects' });
        }
        assertJsonDepth(msg, 'the WebSocket message');
        if (typeof msg.id === 'string' && msg.id !== '') id = msg.id;
        for (const field of ['headers', 'inputs'] as const) {
          const v = msg[field];
          if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) {
            throw new ModelServerError('BAD_REQUEST', { reason: `"${field}" must be a JSON object` });
          }
        }
        headers = Object.fromEntries(Object.entries(msg.headers ?? {}).map(([k, v]) => [k.toLowerCase(), headerValue(k, v)]));
        named = (typeof msg.sequence_id === 'string' && msg.sequence_id) || headers[SEQUENCE_ID_HEADER] || undefined;
        end = msg.sequence_end === true || flagValue(headers[SEQUENCE_END_HEADER]);
        inputs = msg.inputs
          ? Object.entries(msg.inputs).map(([name, value]) => toInput(name, value))
          : [toInput('body', msg.body, msg.contentType)];
      }
      headers['explain'] = 'False';
      const sequences = sequencesOf();
      const job = submitJob(deps.registry, {
        kind: 'predict',
        model,
        version,
        headers,
        inputs,
        sink: new WebSocketSink(ws, id, deps.maxBufferedChunks),
        requestId: publicRequestId(headers[REQUEST_ID_HEADER] ?? id),
        sequence: sequences ? sequence.next(named, end, sequences) : undefined,
      });
      jobs.add(job);
      job.whenEnded(() => jobs.delete(job));
      sequence.accepted(job);
      const s = job.sequence;
      send(ws, { id, type: 'accepted', ...(s ? { sequenceId: s.id, ...(s.start ? { sequenceStart: true } : {}) } : {}) });
    } catch (err) {
      const e = asModelServerError(err);
      send(ws, { id, type: 'error', status: e.status, error: e.toJSON() });
    }
  });
  ws.on('close', () => {
    for (const job of [...jobs]) job.cancel('websocket closed');
    try {
      sequence.close(sequencesOf());
    } catch {
      // the model is gone, and its sequences with it
    }
  });
  ws.on('error', (err) => deps.logger.debug({ err: err.message }, 'websocket error'));
}
