import type { TokenStore } from '../auth/token-store.js';
import type { StatusRoutesContext } from '../dashboard/status-routes.js';
import type { GatewayContext } from '../gateway-context.js';
import type { RegisterOptions } from '../gateway.js';
import type { ModelVersion } from '../models/model-version.js';
import type { WorkflowRegistry } from '../workflows/registry.js';

/** What the management API needs of the gateway, beyond what every app gets. */
export interface ManagementContext extends GatewayContext, StatusRoutesContext {
  /** Registers a model version from a local archive (see Gateway.register). */
  register(options: RegisterOptions): Promise<ModelVersion>;
  /** Unregisters and drains a version; running batches get `graceMs` before their workers are stopped. */
  unregister(name: string, version: string, graceMs?: number): Promise<void>;
  /** The keys, when token authorization is on (for `GET /token`). */
  readonly tokens: TokenStore | undefined;
  /** Whether a version was loaded at start (describe's `loadedAtStartup`). */
  loadedAtStartup(version: ModelVersion): boolean;
  /** Records a change of the model state (TorchServe writes a config snapshot after each). */
  modelsChanged(): void;
  /** The registered workflows; their node models are registered and unregistered through them. */
  readonly workflows: WorkflowRegistry;
}
