import { Server, ServerCredentials, type ChannelOptions, type GrpcObject, type ServiceClientConstructor, type ServiceDefinition, loadPackageDefinition } from '@grpc/grpc-js';
import type { ServerConfig } from '../config/server-config.js';
import { loadTlsMaterial } from '../config/tls.js';
import { AllowedUrls } from '../management/allowed-urls.js';
import type { ManagementContext } from '../management/management-context.js';
import type { GrpcDeps } from './grpc-deps.js';
import { health } from './health-service.js';
import { tolerantService } from './malformed.js';
import { torchServeManagement } from './management-service.js';
import { openInference } from './oip-service.js';
import type { PredictionResponse } from './messages.js';
import { decodePredictionsRequest, encodePredictionResponse } from './prediction-codec.js';
import { GRPC_SERVICES, loadGrpcDefinitions } from './proto-files.js';
import { torchServeInference } from './torchserve-inference.js';

export interface GrpcListeners {
  /** `host:port` of the inference listener (TorchServe inference, Open Inference Protocol, health). */
  inference: string;
  /** `host:port` of the management listener. */
  management: string;
  /** Ends every call and closes both listeners. */
  stop(): Promise<void>;
}

function serviceOf(root: GrpcObject, fullName: string): ServiceDefinition {
  let node: unknown = root;
  for (const part of fullName.split('.')) node = (node as Record<string, unknown>)[part];
  return (node as ServiceClientConstructor).service;
}

/** TorchServe's prediction rpcs with the hand-written codecs of their messages (prediction-codec.ts). */
function withPredictionCodecs(service: ServiceDefinition): ServiceDefinition {
  const out: Record<string, ServiceDefinition[string]> = { ...service };
  for (const rpc of ['Predictions', 'StreamPredictions', 'StreamPredictions2']) {
    const method = service[rpc]!;
    const fallback = method.responseSerialize as (m: PredictionResponse) => Buffer;
    out[rpc] = { ...method, requestDeserialize: decodePredictionsRequest, responseSerialize: (m: PredictionResponse) => encodePredictionResponse(m, fallback) };
  }
  return out as ServiceDefinition;
}

/** A host as a gRPC target's host part: IPv6 in brackets. */
function targetHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function serverOptions(config: ServerConfig, api: 'inference' | 'management'): ChannelOptions {
  const options: ChannelOptions = {
    // A larger message is refused with RESOURCE_EXHAUSTED by grpc-js; the call fails, the server carries on.
    'grpc.max_receive_message_length': config.max_request_size,
    'grpc.max_send_message_length': config.max_response_size,
  };
  const age = config[`grpc_${api}_max_connection_age_ms`];
  const grace = config[`grpc_${api}_max_connection_age_grace_ms`];
  if (age !== undefined) options['grpc.max_connection_age_ms'] = age;
  if (grace !== undefined) options['grpc.max_connection_age_grace_ms'] = grace;
  return options;
}

/** TLS with the HTTP listeners' key and certificate when enable_grpc_ssl is on (TorchServe's keys), else plaintext. */
function credentials(config: ServerConfig): ServerCredentials {
  if (!config.enable_grpc_ssl) return ServerCredentials.createInsecure();
  const tls = loadTlsMaterial(config, 'enable_grpc_ssl=true')!;
  return ServerCredentials.createSsl(null, [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }], false);
}

function bind(server: Server, host: string, port: number, creds: ServerCredentials): Promise<string> {
  return new Promise((resolve, reject) => {
    const target = `${targetHost(host)}:${port}`;
    server.bindAsync(target, creds, (err, bound) => {
      if (err) reject(new Error(`gRPC cannot listen on ${target}: ${err.message}`, { cause: err }));
      else resolve(`${targetHost(host)}:${bound}`);
    });
  });
}

/**
 * Starts the two gRPC listeners: on `grpc_inference_address:grpc_inference_port` TorchServe's inference
 * service, the Open Inference Protocol's GRPCInferenceService and the standard health service share one
 * server (as Triton serves its own on one port; clients tell them apart by the method path); TorchServe's
 * management service on `grpc_management_address:grpc_management_port`.
 */
export async function startGrpcListeners(ctx: ManagementContext): Promise<GrpcListeners> {
  const root = loadPackageDefinition(loadGrpcDefinitions());
  const deps: GrpcDeps = { ctx, allowed: new AllowedUrls(ctx.config.allowed_urls) };
  const inference = new Server(serverOptions(ctx.config, 'inference'));
  inference.addService(tolerantService(withPredictionCodecs(serviceOf(root, GRPC_SERVICES.torchServeInference))), torchServeInference(deps));
  inference.addService(tolerantService(serviceOf(root, GRPC_SERVICES.openInference)), openInference(deps));
  inference.addService(tolerantService(serviceOf(root, GRPC_SERVICES.health)), health(deps));
  const management = new Server(serverOptions(ctx.config, 'management'));
  management.addService(tolerantService(serviceOf(root, GRPC_SERVICES.torchServeManagement)), torchServeManagement(deps));
  const servers = [inference, management];
  const creds = credentials(ctx.config);
  const stop = async (): Promise<void> => {
    for (const s of servers) s.forceShutdown();
  };
  try {
    return {
      inference: await bind(inference, ctx.config.grpc_inference_address, ctx.config.grpc_inference_port, creds),
      management: await bind(management, ctx.config.grpc_management_address, ctx.config.grpc_management_port, creds),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
