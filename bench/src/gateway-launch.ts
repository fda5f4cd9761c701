import { EPHEMERAL_LOOPBACK, gatewayNodeArgs, loadServerConfig, workerLaunch } from '@model-server/gateway';
import { startServer, type Server } from './measure.js';
import type { GatewayTargetConfig } from './targets/target-messages.js';

export interface GatewayLaunchOptions {
  store: string;
  /** `--models` specs, e.g. `noop=noop.mar`. */
  models: string[];
  /** `--workflows` specs, e.g. `ocr=ocr.war`, from `store` (the workflow store too). */
  workflows?: string[] | undefined;
  logLevel: string;
  /** config.properties `vmargs` / `worker_vmargs` instead of the product's defaults. */
  vmargs?: string | undefined;
  workerVmargs?: string | undefined;
  /** Environment of the gateway process (its workers inherit it). */
  env?: NodeJS.ProcessEnv | undefined;
}

export interface LaunchedGateway {
  server: Server;
  /** The node flags the gateway process and each worker run with. */
  vmargs: string[];
  workerVmargs: string[];
}

/**
 * Starts our gateway in its own process with the flags `model-server start` would give it: both read
 * them from the same config keys through `gatewayNodeArgs`, so the bench measures what production runs.
 */
export async function startGateway(options: GatewayLaunchOptions): Promise<LaunchedGateway> {
  const overrides: Record<string, unknown> = {
    ...EPHEMERAL_LOOPBACK,
    model_store: options.store,
    workflow_store: options.store,
    disable_token_authorization: true,
    ...(options.vmargs !== undefined ? { vmargs: options.vmargs } : {}),
    ...(options.workerVmargs !== undefined ? { worker_vmargs: options.workerVmargs } : {}),
  };
  const config = loadServerConfig({ overrides });
  const target: GatewayTargetConfig = { overrides, models: options.models, workflows: options.workflows ?? [], logLevel: options.logLevel };
  const server = await startServer('gateway', 'targets/gateway-target', target, {
    execArgv: [...gatewayNodeArgs(config)],
    ...(options.env ? { env: options.env } : {}),
  });
  return { server, vmargs: [...gatewayNodeArgs(config)], workerVmargs: [...workerLaunch(config).nodeArgs] };
}
