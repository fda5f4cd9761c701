import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { describeVersions } from '../management/describe-model.js';
import { listModelsPage } from '../management/list-models.js';
import { Params } from '../management/params.js';
import { registerModel } from '../management/register-model.js';
import { scaleWorkers } from '../management/scale-workers.js';
import { setDefaultVersion } from '../management/set-default.js';
import { unregisterModel } from '../management/unregister-model.js';
import type { GrpcDeps } from './grpc-deps.js';
import type {
  DescribeModelRequest,
  ListModelsRequest,
  ManagementResponse,
  ModelVersionRequest,
  RegisterModelRequest,
  ScaleWorkerRequest,
} from './messages.js';
import { required } from './submit.js';
import { unaryRpc } from './unary-rpc.js';

/** The proto3 zero values TorchServe's gRPC management reads as "not given". */
function given(values: Record<string, string | number | boolean>): Params {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(values)) if (v !== 0 && v !== '' && v !== false) out[k] = v;
  return new Params(out);
}

const json = (value: unknown): ManagementResponse => ({ msg: JSON.stringify(value, null, 2) });

/**
 * TorchServe's `ManagementAPIsService` on the gRPC management port, with the REST API's functions and
 * rules (model API switch, allowed URLs, messages); every rpc needs the management key.
 */
export function torchServeManagement(deps: GrpcDeps): UntypedServiceImplementation {
  const { ctx } = deps;
  const rpc = <Req>(answer: (request: Req) => Promise<ManagementResponse> | ManagementResponse) => unaryRpc(deps, 'management', answer);
  return {
    DescribeModel: rpc<DescribeModelRequest>(async (r) => json(await describeVersions(ctx, required(r.model_name, 'model_name'), r.model_version || undefined))),
    // 0 means the default page size here (TorchServe's gRPC path lists nothing for 0).
    ListModels: rpc<ListModelsRequest>((r) => json(listModelsPage(ctx.registry, new Params({ limit: r.limit || undefined, next_page_token: r.next_page_token || undefined })))),
    RegisterModel: rpc<RegisterModelRequest>(async (r) => {
      const params = given({
        url: r.url,
        model_name: r.model_name,
        runtime: r.runtime,
        batch_size: r.batch_size,
        initial_workers: r.initial_workers,
        max_batch_delay: r.max_batch_delay,
        response_timeout: r.response_timeout,
        startup_timeout: r.startup_timeout,
        // Not given means false on gRPC (the REST default is true).
        synchronous: r.synchronous ? 'true' : 'false',
      });
      return { msg: (await registerModel(ctx, params, deps.allowed)).message };
    }),
    ScaleWorker: rpc<ScaleWorkerRequest>(async (r) => {
      const params = given({ min_worker: r.min_worker, max_worker: r.max_worker, synchronous: r.synchronous });
      return { msg: (await scaleWorkers(ctx, required(r.model_name, 'model_name'), r.model_version || undefined, params)).message };
    }),
    SetDefault: rpc<ModelVersionRequest>((r) => ({
      msg: setDefaultVersion(ctx, required(r.model_name, 'model_name'), required(r.model_version, 'model_version')).message,
    })),
    UnregisterModel: rpc<ModelVersionRequest>(async (r) => ({
      msg: (await unregisterModel(ctx, required(r.model_name, 'model_name'), r.model_version || undefined)).message,
    })),
  };
}
