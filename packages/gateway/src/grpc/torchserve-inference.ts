import type {
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedServiceImplementation,
  sendUnaryData,
} from '@grpc/grpc-js';
import { SEQUENCE_ID_HEADER, type InferenceInput } from '@model-server/protocol';
import { serverHealthy, type GatewayContext } from '../gateway-context.js';
import type { ResponsePart } from '../scheduling/job.js';
import { BidiStream } from './bidi-stream.js';
import type { GrpcDeps } from './grpc-deps.js';
import { refusedToken } from './auth.js';
import { MalformedMessage } from './malformed.js';
import type { PredictionResponse, PredictionsRequest } from './messages.js';
import { ServerStreamSink, TaggedStreamSink, UnarySink } from './sinks.js';
import { grpcStatusOf, inBandStatus } from './status.js';
import { cancelWithCall, metadataHeaders, required, submitGrpcJob, type GrpcJobRequest } from './submit.js';

/** Each entry of the request's `input` map is one named input, raw bytes as a multipart part without a content type. */
function inputsOf(request: PredictionsRequest): InferenceInput[] {
  const inputs: InferenceInput[] = [];
  for (const name in request.input) inputs.push({ name, contentType: 'application/octet-stream', data: request.input[name]! });
  return inputs;
}

function jobRequest(request: PredictionsRequest | MalformedMessage, call: { metadata: ServerUnaryCall<unknown, unknown>['metadata']; getDeadline(): GrpcJobRequest['deadline'] }): GrpcJobRequest {
  if (request instanceof MalformedMessage) throw request.error();
  return {
    model: required(request.model_name, 'model_name'),
    version: request.model_version || undefined,
    inputs: inputsOf(request),
    headers: metadataHeaders(call.metadata),
    deadline: call.getDeadline(),
  };
}

/** The handler's answer for one request: the same bytes as the REST body (no headers, no content type). */
function prediction(part: ResponsePart): PredictionResponse {
  return { prediction: part.body };
}

/** `{"status": "Healthy"}` (2-space indent, as TorchServe), by the REST /ping's rule. */
function health(ctx: GatewayContext): string {
  return JSON.stringify({ status: serverHealthy(ctx) ? 'Healthy' : 'Unhealthy' }, null, 2);
}

/**
 * TorchServe's `InferenceAPIsService`: Ping (no token), Predictions, StreamPredictions (server
 * streaming: one message per intermediate response, then the final one) and StreamPredictions2
 * (bidirectional: many requests, answers carry the request's sequence_id, errors in band).
 */
export function torchServeInference(deps: GrpcDeps): UntypedServiceImplementation {
  const { registry } = deps.ctx;
  const maxBufferedChunks = deps.ctx.config.stream_max_buffered_chunks;

  const Ping = (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<{ health: string }>): void => {
    callback(null, { health: health(deps.ctx) });
  };

  const Predictions = (call: ServerUnaryCall<PredictionsRequest, PredictionResponse>, callback: sendUnaryData<PredictionResponse>): void => {
    try {
      const denied = refusedToken(deps.ctx.tokens, call.metadata, 'inference');
      if (denied) throw denied;
      const job = submitGrpcJob(registry, jobRequest(call.request, call), () => new UnarySink(callback, prediction));
      cancelWithCall(call, job);
    } catch (err) {
      callback(grpcStatusOf(err));
    }
  };

  const StreamPredictions = (call: ServerWritableStream<PredictionsRequest, PredictionResponse>): void => {
    try {
      const denied = refusedToken(deps.ctx.tokens, call.metadata, 'inference');
      if (denied) throw denied;
      const job = submitGrpcJob(registry, jobRequest(call.request, call), (jobId) => new ServerStreamSink(call, prediction, maxBufferedChunks, jobId));
      cancelWithCall(call, job);
    } catch (err) {
      call.emit('error', grpcStatusOf(err));
    }
  };

  const StreamPredictions2 = (call: ServerDuplexStream<PredictionsRequest, PredictionResponse>): void => {
    const denied = refusedToken(deps.ctx.tokens, call.metadata, 'inference');
    if (denied) {
      call.emit('error', grpcStatusOf(denied));
      return;
    }
    new BidiStream<PredictionsRequest, PredictionResponse>(call, {
      maxBufferedChunks,
      renderError: (error) => ({ status: inBandStatus(error) }),
      onRequest(request, stream) {
        const sequenceId = request.sequence_id ?? '';
        const reply = (message: PredictionResponse): PredictionResponse => (sequenceId ? { ...message, sequence_id: sequenceId } : message);
        try {
          const job = jobRequest(request, { metadata: stream.metadata, getDeadline: () => stream.deadline });
          job.headers[SEQUENCE_ID_HEADER] = required(sequenceId, 'sequenceId');
          stream.track(
            submitGrpcJob(registry, job, () => new TaggedStreamSink(stream, (part) => reply(prediction(part)), (error) => reply({ status: inBandStatus(error) }))),
          );
        } catch (err) {
          // The request's own errors carry its sequence id too.
          stream.write(reply({ status: inBandStatus(err) }));
        }
      },
    });
  };

  return { Ping, Predictions, StreamPredictions, StreamPredictions2 };
}
