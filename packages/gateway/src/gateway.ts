import type { IncomingMessage, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebSocketServer } from 'ws';
import { ModelServerError } from '@model-server/protocol';
import { UnpackCache, type OpenedArchive, type OpenedWorkflow } from '@model-server/archive';
import { createInferenceApp } from './apps/inference-app.js';
import { TokenGuard, type GuardedApi } from './auth/token-guard.js';
import { TokenStore } from './auth/token-store.js';
import { createManagementApp } from './apps/management-app.js';
import { createMetricsApp } from './apps/metrics-app.js';
import { resolveModelSettings, type ModelOverrides } from './config/model-config.js';
import type { ServerConfig } from './config/server-config.js';
import { isHttpsAddress, loadTlsMaterial } from './config/tls.js';
import { applyBlockDefaults, blockAsModelConfig, blockSpecs, modelsBlockEntry, parseModelsBlock, type ModelsBlock } from './config/models-block.js';
import { modelConfigWarnings } from './config/model-config-keys.js';
import type { GatewayContext } from './gateway-context.js';
import { createListener, listen, listenerHandler, planListeners, stopAccepting } from './http/listeners.js';
import { guardConnections } from './http/connection-guard.js';
import { ClosingResponses } from './http/closing-responses.js';
import { attachWebSocket } from './http/websocket.js';
import { startGrpcListeners, type GrpcListeners } from './grpc/grpc-servers.js';
import { AccessLog } from './logging/access-log.js';
import { createLogger, type Logger } from './logging/logger.js';
import type { ManagementContext } from './management/management-context.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { resolveModelPath } from './model-loader.js';
import { openModels, type OpenedModel } from '@model-server/archive';
import { ModelRegistry } from './registry/model-registry.js';
import { loadStartupModels, restoreSnapshot, type StartupOutcome } from './registry/startup-models.js';
import { ModelVersion } from './models/model-version.js';
import { inferenceListener, managementListener, metricsListener, type ListenerDeps } from './routing/listeners.js';
import { buildModelSnapshot } from './snapshot/model-snapshot.js';
import { SnapshotStore, type SnapshotKind } from './snapshot/snapshot-store.js';
import { workerLaunch, type WorkerLaunch } from './config/vm-args.js';
import { StatusSampler } from './status/status-sampler.js';
import { WorkflowRegistry, type WorkflowHost } from './workflows/registry.js';
import { loadStartupWorkflows } from './workflows/startup.js';

import { SERVER_VERSION } from './version.js';

export { SERVER_VERSION } from './version.js';

export interface GatewayOptions {
  config: ServerConfig;
  /** Models to load at start (`--models`); `load_models` from the config is used when absent. */
  models?: readonly string[];
  /** Workflows to load at start, after the models (`--workflows`: `name=x.war`, `x.war`, `all`). */
  workflows?: readonly string[];
  logger?: Logger;
  /** How long a cancelled request may keep running before its worker is taken as hung. */
  cancelGraceMs?: number;
  /** Folder for config snapshots (TorchServe's `logs/config`); none are written when absent (`--ncs`). */
  snapshotDir?: string | undefined;
  /** Folder of the access log (TorchServe's LOG_LOCATION; default `logs`). */
  logDir?: string | undefined;
}

export interface RegisterOptions extends ModelOverrides {
  url: string;
  name?: string | undefined;
  /** Only this version, of a path that serves several (a snapshot restores one version per entry). */
  version?: string | undefined;
  /** Wait for the workers to load (default true). */
  synchronous?: boolean;
  /**
   * An archive opened already instead of `url` (which is then only shown): one opened through
   * {@link Gateway.openArchive}, or a workflow's function node made from its workflow's folder. The
   * version owns it from here and releases it when unregistered.
   */
  archive?: OpenedArchive | undefined;
}

export interface Addresses {
  inference: string;
  management: string;
  metrics: string;
  /** gRPC listeners, `host:port` (docs/grpc.md). */
  grpcInference: string;
  grpcManagement: string;
}

/** How often node checks connections against the header and request read timeouts. */
const CONNECTION_CHECK_MS = 1_000;
/** Longer than the 60 s idle timeout of the usual load balancers, so they close first (no race). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** The gateway: owns the three listeners, the model registry and every worker. */
export class Gateway implements GatewayContext, ManagementContext, WorkflowHost {
  readonly registry = new ModelRegistry();
  readonly workflows: WorkflowRegistry;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** The status page's and `model-server status`'s summary, sampled once a second. */
  readonly status: StatusSampler;
  /** The keys, when token authorization is on. */
  tokens: TokenStore | undefined;
  private guard = new TokenGuard(undefined);
  private readonly snapshots: SnapshotStore | undefined;
  /** config.properties' `models={...}` block, per model and version. */
  private readonly modelsBlock: ModelsBlock;
  private readonly startupModels = new WeakSet<ModelVersion>();
  /** Models named at start that could not be registered: the server is not ready while any is. */
  startupFailures: StartupOutcome['failures'] = [];
  /** Set when a shutdown begins: readiness fails, new work is refused, connections close. */
  draining = false;
  /** The responses under way, which a drain makes close their connections. */
  private readonly responses = new ClosingResponses();
  private accessLog: AccessLog | undefined;
  private readonly logDir: string;
  readonly version = SERVER_VERSION;
  addresses: Addresses = { inference: '', management: '', metrics: '', grpcInference: '', grpcManagement: '' };
  startupComplete = false;
  private readonly servers: Server[] = [];
  private webSockets: WebSocketServer | undefined;
  private grpc: GrpcListeners | undefined;
  private workerNumber = 9000;
  private readonly workDir: string;
  /** This process's unpacked archives; made at start, removed at stop. */
  private unpacked: UnpackCache | undefined;
  private readonly cancelGraceMs: number;
  private readonly workerLaunch: WorkerLaunch;

  private constructor(
    readonly config: ServerConfig,
    options: GatewayOptions,
  ) {
    this.logger = options.logger ?? createLogger();
    this.workDir = config.model_work_dir ?? join(tmpdir(), 'model-server', 'models');
    this.cancelGraceMs = options.cancelGraceMs ?? config.cancel_grace_period * 1000;
    this.workerLaunch = workerLaunch(config);
    this.metrics = new GatewayMetrics(config.metrics_mode, this.logger);
    this.status = new StatusSampler({
      registry: this.registry,
      metrics: this.metrics.registry,
      logger: this.logger,
      server: () => ({ version: this.version, addresses: this.addresses, tokenAuthorization: this.tokens !== undefined, modelApiEnabled: config.enable_model_api }),
    });
    this.snapshots = options.snapshotDir === undefined ? undefined : new SnapshotStore(options.snapshotDir);
    this.logDir = options.logDir ?? process.env['LOG_LOCATION'] ?? 'logs';
    this.modelsBlock = parseModelsBlock(config.models, 'models');
    this.workflows = new WorkflowRegistry(this);
  }

  static async start(options: GatewayOptions): Promise<Gateway> {
    const gateway = new Gateway(options.config, options);
    try {
      gateway.unpacked = await UnpackCache.create(gateway.workDir, options.config.max_unpacked_size);
      if (!options.config.disable_token_authorization) {
        gateway.tokens = await TokenStore.create({
          keyFile: options.config.token_key_file,
          expirationMin: options.config.token_expiration_min,
          inferenceKey: options.config.inference_key,
          managementKey: options.config.management_key,
        });
        gateway.guard = new TokenGuard(gateway.tokens);
      }
      gateway.registry.loading = true;
      await gateway.listen();
      gateway.status.start();
      let outcome;
      if (options.config.model_snapshot) outcome = await restoreSnapshot(gateway, options.config.model_snapshot);
      else {
        const specs = options.models ?? (options.config.load_models ? [options.config.load_models] : []);
        // A config whose `models` block names archives (marName) and that lists no models loads those.
        outcome = await loadStartupModels(gateway, specs.length > 0 ? specs : blockSpecs(gateway.modelsBlock).map((b) => `${b.name}=${b.url}`));
        applyBlockDefaults(gateway.modelsBlock, gateway.registry, gateway.logger);
      }
      for (const v of outcome.loaded) gateway.startupModels.add(v);
      // Workflows come after the models: their nodes may name archives of the model store.
      const workflowFailures = await loadStartupWorkflows(gateway.workflows, options.config, gateway.logger, options.workflows ?? []);
      gateway.startupFailures = [...outcome.failures, ...workflowFailures];
      gateway.startupComplete = true;
      gateway.registry.loading = false;
      await gateway.writeSnapshot('startup');
    } catch (err) {
      await gateway.stop();
      throw err;
    }
    return gateway;
  }

  /** The model store, for start-up model lists (StartupContext). */
  get modelStore(): string | undefined {
    return this.config.model_store;
  }

  private async listen(): Promise<void> {
    const { config } = this;
    if (config.enable_access_log) {
      this.accessLog = new AccessLog(join(this.logDir, 'access_log.log'), { maxBytes: config.log_max_file_size, maxFiles: config.log_max_files });
    }
    const deps: ListenerDeps = { guard: () => this.guard, metrics: this.metrics, accessLog: this.accessLog };
    const hot = { registry: this.registry, maxRequestBytes: config.max_request_size, maxBufferedChunks: config.stream_max_buffered_chunks };
    const handlers = {
      inference: inferenceListener(deps, hot, this.responses.adopt(createInferenceApp(this)), { ...hot, workflows: this.workflows, logger: this.logger, draining: () => this.draining }),
      management: managementListener(deps, this.responses.adopt(createManagementApp(this))),
      metrics: metricsListener(deps, this.responses.adopt(createMetricsApp(this))),
    };
    // Equal addresses share one listener (TorchServe's, and KServe's stock config on 8085).
    const plans = planListeners({ inference: config.inference_address, management: config.management_address, metrics: config.metrics_address });
    const tls = plans.some((p) => isHttpsAddress(p.address)) ? loadTlsMaterial(config, 'an https:// address') : undefined;
    const readTimeoutMs = config.request_read_timeout * 1000;
    const bound: Partial<Record<'inference' | 'management' | 'metrics', string>> = {};
    for (const plan of plans) {
      const server = createListener(plan, listenerHandler(plan.apis, handlers), { keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS, connectionsCheckingIntervalMs: CONNECTION_CHECK_MS, tls, responseClass: this.responses.ServerResponse });
      guardConnections(server, this.logger, { requestTimeoutMs: readTimeoutMs, headersTimeoutMs: readTimeoutMs });
      this.servers.push(server);
      const address = await listen(server, plan);
      for (const api of plan.apis) bound[api] = address;
      if (plan.apis.includes('inference')) {
        // Upgrades bypass the request listener, so the WebSocket route runs the same token check.
        const authorize = (req: IncomingMessage): void => {
          const denied = this.draining ? new ModelServerError('SERVER_DRAINING') : this.guard.check(req, 'inference');
          if (denied) throw denied;
        };
        this.webSockets = attachWebSocket(server, { ...hot, logger: this.logger, authorize });
      }
    }
    this.grpc = await startGrpcListeners(this);
    this.addresses = { inference: bound.inference!, management: bound.management!, metrics: bound.metrics!, grpcInference: this.grpc.inference, grpcManagement: this.grpc.management };
  }

  /**
   * Token check for requests that bypass the listeners' handlers, such as WebSocket upgrades:
   * undefined when the request may proceed, otherwise the error to answer with.
   */
  authorize(req: IncomingMessage, api: GuardedApi): ModelServerError | undefined {
    return this.guard.check(req, api);
  }

  /** The node:http servers (inference, management, metrics), for upgrades such as WebSocket. */
  get httpServers(): readonly Server[] {
    return this.servers;
  }

  /** Whether a version was loaded at start (describe's `loadedAtStartup`). */
  loadedAtStartup(version: ModelVersion): boolean {
    return this.startupModels.has(version);
  }

  /** Records a change of the model state: writes a config snapshot (when snapshots are on). */
  modelsChanged(): void {
    this.writeSnapshot('snapshot').catch((err: unknown) => this.logger.error(`cannot write config snapshot: ${(err as Error).message}`));
  }

  private async writeSnapshot(kind: SnapshotKind): Promise<void> {
    // Workflows are not in snapshots (TorchServe's are not either), nor the models serving their nodes:
    // restored alone, those would point at a workflow's unpacked files.
    const own = (model: string): boolean => this.workflows.ownerOf(model) !== undefined;
    await this.snapshots?.write(kind, this.config, (name) => buildModelSnapshot(this.registry, name, Date.now(), own));
  }

  /** Opens a model archive through this process's unpack cache (WorkflowHost). */
  openArchive(path: string): Promise<OpenedArchive> {
    return this.unpacked!.open(path);
  }

  openWorkflow(path: string): Promise<OpenedWorkflow> {
    return this.unpacked!.openWorkflow(path);
  }

  releaseWorkflow(workflow: OpenedWorkflow): Promise<void> {
    return this.unpacked!.releaseWorkflow(workflow);
  }

  /**
   * Registers a model from an archive (or a model without one) and starts its workers. A path serving
   * several versions (Triton's layout) registers each, the highest as default, and returns that one.
   */
  async register(options: RegisterOptions): Promise<ModelVersion> {
    return (await this.registerAll(options)).at(-1)!;
  }

  /** Every version a path serves, registered (StartupContext). */
  async registerAll(options: RegisterOptions): Promise<ModelVersion[]> {
    if (this.draining) throw new ModelServerError('SERVER_DRAINING');
    const unpacked = this.unpacked!;
    // A workflow's node models come opened already (from the unpacked .war).
    let opened: OpenedModel[] = options.archive ? [{ archive: options.archive, warnings: [] }] : await openModels(resolveModelPath(options.url, this.config.model_store), options.name, unpacked);
    if (options.version !== undefined && opened.length > 1) {
      const [wanted, rest] = [opened.filter((o) => o.archive.manifest.model.modelVersion === options.version), opened.filter((o) => o.archive.manifest.model.modelVersion !== options.version)];
      for (const o of rest) await unpacked.release(o.archive);
      if (wanted.length === 0) throw new ModelServerError('MODEL_VERSION_NOT_FOUND', { model: options.name ?? options.url, version: options.version });
      opened = wanted;
    }
    const versions: ModelVersion[] = [];
    for (let i = 0; i < opened.length; i++) {
      try {
        versions.push(await this.registerOpened(options, opened[i]!));
      } catch (err) {
        for (const rest of opened.slice(i + 1)) await unpacked.release(rest.archive);
        throw err;
      }
    }
    const last = versions.at(-1)!;
    if (versions.length > 1) this.registry.setDefault(last.name, last.version);
    return versions;
  }

  private async registerOpened(options: RegisterOptions, { archive, warnings }: OpenedModel): Promise<ModelVersion> {
    const unpacked = this.unpacked!;
    let modelVersion: ModelVersion;
    try {
      const name = options.name ?? archive.manifest.model.modelName;
      const version = archive.manifest.model.modelVersion;
      const file = `${options.url}/${archive.manifest.model.configFile ?? 'model-config.yaml'}`;
      // config.properties' `models` block sits below the archive's own yaml (TorchServe's precedence).
      const block = blockAsModelConfig(modelsBlockEntry(this.modelsBlock, name, version));
      const settings = resolveModelSettings({ ...block, ...archive.modelConfig }, this.config, file, options);
      for (const warning of [...warnings, ...modelConfigWarnings(archive.modelConfig, file)]) this.logger.warn({ model: name, version }, warning);
      modelVersion = new ModelVersion({
        name,
        version,
        url: options.url,
        archive,
        settings,
        logger: this.logger,
        maxRequestBytes: this.config.max_request_size,
        maxResponseBytes: this.config.max_response_size,
        cancelGraceMs: this.cancelGraceMs,
        workerLaunch: this.workerLaunch,
        nextWorkerNumber: () => this.workerNumber++,
      });
      this.registry.add(modelVersion);
    } catch (err) {
      await unpacked.release(archive);
      throw err;
    }
    this.metrics.track(modelVersion);
    this.status.track(modelVersion);
    const settings = modelVersion.settings;
    const starting = modelVersion.pool.scaleTo(settings.minWorkers);
    if (options.synchronous !== false) await starting;
    this.logger.info({ model: modelVersion.name, version: modelVersion.version, workers: modelVersion.pool.liveCount }, 'model registered');
    return modelVersion;
  }

  /** Unregisters a version: queued requests are answered, running ones finish, then workers stop. */
  async unregister(name: string, version?: string, graceMs?: number): Promise<void> {
    const target = this.registry.resolve(name, version);
    this.registry.remove(target.name, target.version);
    try {
      await target.drain(graceMs);
    } finally {
      this.metrics.untrack(target);
      // Its workers have stopped: the unpacked copy can go (unless another version uses it).
      await this.unpacked?.release(target.archive);
    }
  }

  /**
   * A graceful shutdown (SIGTERM, Ctrl-C): readiness fails at once and the listeners stop accepting;
   * responses from then on close their connections; new work is refused (503 SERVER_DRAINING with
   * Retry-After); queued and running work finishes within `graceMs`, after which what remains fails
   * and the workers are terminated. Then everything stops.
   */
  async shutdown(graceMs: number): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const started = performance.now();
    const versions = this.registry.all();
    const queued = versions.reduce((n, v) => n + v.queueSize, 0);
    const running = versions.reduce((n, v) => n + v.inFlightCount, 0);
    this.logger.info({ queued, running, graceMs }, 'shutting down: draining queued and running requests');
    this.responses.closeConnections();
    for (const server of this.servers) stopAccepting(server);
    // A workflow request between two nodes still needs the next one: workflows finish first, their
    // node models go on serving meanwhile, and the models then get what is left of the grace period.
    await this.workflows.close(graceMs);
    const left = Math.max(0, graceMs - (performance.now() - started));
    await Promise.allSettled(versions.map((v) => v.finish(left)));
    this.logger.info({ ms: Math.round(performance.now() - started) }, 'drained');
    // Connections still open (a client that keeps an idle socket) end with the stop below.
    await this.stop();
    this.logger.info('stopped');
  }

  /** Stops now: queued requests fail, running batches get a few seconds, connections are closed. */
  async stop(): Promise<void> {
    this.draining = true;
    // A failed start must not write a shutdown snapshot that a restart would then restore.
    if (this.startupComplete) await this.writeSnapshot('shutdown').catch((err: unknown) => this.logger.error(`cannot write config snapshot: ${(err as Error).message}`));
    await this.tokens?.dispose();
    this.status.stop();
    for (const ws of this.webSockets?.clients ?? []) ws.terminate();
    this.webSockets?.close();
    await Promise.allSettled(this.registry.all().map((v) => v.drain()));
    await this.grpc?.stop();
    await this.unpacked?.dispose().catch((err: unknown) => this.logger.error(`cannot remove ${this.unpacked?.dir}: ${(err as Error).message}`));
    await Promise.allSettled(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    await this.accessLog?.close();
  }
}
