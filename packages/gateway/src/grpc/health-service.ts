import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { ModelServerError } from '@model-server/protocol';
import { serverReadiness } from '../oip/model-state.js';
import type { GrpcDeps } from './grpc-deps.js';
import { GRPC_SERVICES } from './proto-files.js';
import { unaryRpc } from './unary-rpc.js';

/** Services the inference listener answers health checks for ("" = the whole server). */
const KNOWN = new Set(['', GRPC_SERVICES.torchServeInference, GRPC_SERVICES.openInference, GRPC_SERVICES.health]);

/**
 * The standard `grpc.health.v1.Health/Check` (Kubernetes gRPC probes, grpc_health_probe): SERVING once
 * the server is ready (as OIP ServerReady), NOT_SERVING before; NOT_FOUND for a service not served
 * here. No token.
 */
export function health(deps: GrpcDeps): UntypedServiceImplementation {
  return {
    Check: unaryRpc(deps, undefined, (r: { service: string }) => {
      if (!KNOWN.has(r.service)) throw new ModelServerError('RESOURCE_NOT_FOUND');
      return { status: serverReadiness(deps.ctx).ready ? 'SERVING' : 'NOT_SERVING' };
    }),
  };
}
