import type { ServerDuplexStream, ServerUnaryCall, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import { ModelServerError } from '@model-server/protocol';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { ModelVersion } from '../models/model-version.js';
import type { ResponsePart } from '../scheduling/job.js';
import { answerTensors } from '../oip/result-tensors.js';
import { applyInferRequest } from '../oip/infer-route.js';
import { modelMetadataResponse } from '../oip/metadata-response.js';
import { assertReady, isReady, metadataOf, serverReadiness } from '../oip/model-state.js';
import { tritonModelConfig } from '../oip/triton-config.js';
import { statsVersions, tritonModelStats } from '../oip/triton-stats.js';
import { OIP_EXTENSIONS, SERVER_NAME } from '../oip/v2-router.js';
import { refusedToken } from './auth.js';
import { BidiStream } from './bidi-stream.js';
import type { GrpcDeps } from './grpc-deps.js';
import { MalformedMessage } from './malformed.js';
import type { ModelInferRequest, ModelInferResponse, ModelStreamInferResponse, NameVersionRequest, RepositoryModelRequest } from './messages.js';
import { decodeModelInfer, encodeModelInfer } from './oip-tensors.js';
import { repositoryIndex, repositoryLoad, repositoryUnload } from './oip-repository.js';
import { TaggedStreamSink, UnarySink } from './sinks.js';
import { grpcStatusOf } from './status.js';
import { sequenceFromOipParameters } from '../scheduling/sequence-request.js';
import { cancelWithCall, metadataHeaders, required, submitGrpcJob, type GrpcJobRequest } from './submit.js';
import { unaryRpc } from './unary-rpc.js';

/** The extensions served over gRPC: the REST ones, plus the model repository (load, unload, index). */
export const GRPC_OIP_EXTENSIONS: readonly string[] = [...OIP_EXTENSIONS, 'model_repository', 'schedule_policy'];

/** Metadata a tritonclient stream opts in with to have an error end the stream instead of arriving in band. */
const END_ON_ERROR_KEY = 'triton_grpc_error';

function versionOf(registry: ModelRegistry, request: NameVersionRequest): ModelVersion {
  return registry.resolve(required(request.name, 'name'), request.version || undefined);
}

interface PreparedInfer {
  job: GrpcJobRequest;
  render: (part: ResponsePart) => ModelInferResponse;
}

/** A ModelInferRequest as a job (decoded, checked against the model's signature) and its response renderer. */
function prepareInfer(registry: ModelRegistry, request: ModelInferRequest | MalformedMessage, call: { metadata: ServerUnaryCall<unknown, unknown>['metadata']; getDeadline(): GrpcJobRequest['deadline'] }): PreparedInfer {
  if (request instanceof MalformedMessage) throw request.error();
  const version = registry.resolve(required(request.model_name, 'model_name'), request.model_version || undefined);
  assertReady(version);
  const decoded = decodeModelInfer(request, version.name, metadataOf(version));
  const headers = metadataHeaders(call.metadata);
  applyInferRequest(decoded, headers);
  const answer = { modelName: version.name, modelVersion: version.version, id: request.id, outputs: decoded.outputs, raw: decoded.raw };
  return {
    job: {
      model: version.name,
      version: version.version,
      inputs: decoded.inputs,
      headers,
      deadline: call.getDeadline(),
      // Triton's sequence parameters, as on REST; a model without sequences ignores them.
      sequence: version.sequences ? sequenceFromOipParameters(decoded.parameters) : undefined,
    },
    render: (part) => encodeModelInfer(answerTensors(part), answer),
  };
}

/** Triton's marker of a request's last response on a stream. */
function finalResponse(response: ModelInferResponse): ModelInferResponse {
  return { ...response, parameters: { triton_final_response: { parameter_choice: 'bool_param', bool_param: true } } };
}

/**
 * The Open Inference Protocol's `inference.GRPCInferenceService` with Triton's extensions that its
 * clients use. Liveness and readiness need no token; repository load and unload need the management
 * key (they register and unregister models); everything else the inference key.
 */
export function openInference(deps: GrpcDeps): UntypedServiceImplementation {
  const { ctx } = deps;
  const { registry } = ctx;
  const probe = <Req, Res>(answer: (request: Req) => Res | Promise<Res>) => unaryRpc(deps, undefined, answer);
  const rpc = <Req, Res>(answer: (request: Req) => Res | Promise<Res>) => unaryRpc(deps, 'inference', answer);

  const ModelInfer = (call: ServerUnaryCall<ModelInferRequest, ModelInferResponse>, callback: sendUnaryData<ModelInferResponse>): void => {
    try {
      const denied = refusedToken(ctx.tokens, call.metadata, 'inference');
      if (denied) throw denied;
      const { job, render } = prepareInfer(registry, call.request, call);
      cancelWithCall(call, submitGrpcJob(registry, job, () => new UnarySink(callback, render)));
    } catch (err) {
      callback(grpcStatusOf(err));
    }
  };

  const ModelStreamInfer = (call: ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>): void => {
    const denied = refusedToken(ctx.tokens, call.metadata, 'inference');
    if (denied) {
      call.emit('error', grpcStatusOf(denied));
      return;
    }
    const inBand = (error: ModelServerError): ModelStreamInferResponse => ({ error_message: error.message });
    new BidiStream<ModelInferRequest, ModelStreamInferResponse>(call, {
      maxBufferedChunks: ctx.config.stream_max_buffered_chunks,
      endOnError: call.metadata.get(END_ON_ERROR_KEY)[0] === 'true',
      renderError: inBand,
      onRequest(request, stream) {
        const { job, render } = prepareInfer(registry, request, { metadata: stream.metadata, getDeadline: () => stream.deadline });
        // Tensor models answer once; a handler's intermediate chunks have no tensor form and are dropped.
        const sink = new TaggedStreamSink<ModelStreamInferResponse>(
          stream,
          (part, final) => (final ? { error_message: '', infer_response: finalResponse(render(part)) } : undefined),
          inBand,
        );
        stream.track(submitGrpcJob(registry, job, () => sink));
      },
    });
  };

  return {
    ServerLive: probe(() => ({ live: true })),
    ServerReady: probe(() => ({ ready: serverReadiness(ctx).ready })),
    // A probe: an unknown model is not ready (Triton raises NOT_FOUND-like errors; clients only read `ready`).
    ModelReady: probe((r: NameVersionRequest) => {
      const version = registry.find(r.name, r.version || undefined);
      return { ready: version !== undefined && isReady(version) };
    }),
    ServerMetadata: rpc(() => ({ name: SERVER_NAME, version: ctx.version, extensions: GRPC_OIP_EXTENSIONS })),
    ModelMetadata: rpc((r: NameVersionRequest) => modelMetadataResponse(registry, versionOf(registry, r))),
    ModelInfer,
    ModelStreamInfer,
    ModelConfig: rpc((r: NameVersionRequest) => ({ config: grpcModelConfig(versionOf(registry, r)) })),
    ModelStatistics: rpc((r: NameVersionRequest) => {
      const versions = r.name === '' ? registry.all() : statsVersions(registry, r.name, r.version || undefined);
      return { model_stats: versions.map(tritonModelStats) };
    }),
    RepositoryIndex: rpc((r: { ready: boolean }) => repositoryIndex(deps, r.ready)),
    RepositoryModelLoad: unaryRpc(deps, 'management', (r: RepositoryModelRequest) => repositoryLoad(deps, r)),
    RepositoryModelUnload: unaryRpc(deps, 'management', (r: RepositoryModelRequest) => repositoryUnload(deps, r)),
  };
}

/**
 * The REST model configuration as the ModelConfig message. Its version policy lists versions as
 * int64, which a version such as `1.0` is not: the policy is left out then (clients treat unset as
 * "the server's choice").
 */
function grpcModelConfig(version: ModelVersion): Record<string, unknown> {
  const config = tritonModelConfig(version);
  if (!/^\d+$/.test(version.version)) delete config['version_policy'];
  return config;
}
