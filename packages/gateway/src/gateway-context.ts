import type { ServerConfig } from './config/server-config.js';
import type { Logger } from './logging/logger.js';
import type { ModelRegistry } from './registry/model-registry.js';

/** What the HTTP apps need of the gateway; kept narrow so apps stay independent of its internals. */
export interface GatewayContext {
  readonly config: ServerConfig;
  readonly registry: ModelRegistry;
  readonly logger: Logger;
  readonly version: string;
  /** True once the models named at startup have been loaded (or failed to): readiness waits for it. */
  readonly startupComplete: boolean;
  /** Models named at start that could not be registered; the server is not ready while any is. */
  readonly startupFailures: readonly { url: string; reason: string }[];
  /** A shutdown has begun: not ready, no new work. */
  readonly draining: boolean;
}

/**
 * TorchServe's Ping rule, for REST `/ping` and gRPC `Ping` alike: healthy when every model's default
 * version has its minimum of healthy workers, and never while the server is shutting down (so load
 * balancers stop sending to it at once).
 */
export function serverHealthy(ctx: Pick<GatewayContext, 'draining' | 'registry'>): boolean {
  return !ctx.draining && ctx.registry.defaults().every((v) => v.healthy);
}
