import type { IncomingMessage, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
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
import type { GatewayContext } from './gateway-context.js';
import { listenOn, stopAccepting } from './http/listen.js';
import { attachWebSocket } from './http/websocket.js';
import { AccessLog } from './logging/access-log.js';
import { createLogger, type Logger } from './logging/logger.js';
import type { ManagementContext } from './management/management-context.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { resolveModelPath } from './model-loader.js';
import { ModelRegistry } from './registry/model-registry.js';
import { loadStartupModels, restoreSnapshot, type StartupOutcome } from './registry/startup-models.js';
import { ModelVersion } from './models/model-version.js';
import { inferenceListener, managementListener, metricsListener, type ListenerDeps } from './routing/listeners.js';
import { buildModelSnapshot } from './snapshot/model-snapshot.js';
import { SnapshotStore, type SnapshotKind } from './snapshot/snapshot-store.js';
import { workerLaunch, type WorkerLaunch } from './config/vm-args.js';
import { WorkflowRegistry, type WorkflowHost } from './workflows/registry.js';
import { loadStartupWorkflows } from './workflows/startup.js';

export const SERVER_VERSION = '0.1.0';

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
}

/** The gateway: owns the three listeners, the model registry and every worker. */
export class Gateway implements GatewayContext, ManagementContext, WorkflowHost {
  readonly registry = new ModelRegistry();
  readonly workflows: WorkflowRegistry;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** The keys, when token authorization is on. */
  tokens: TokenStore | undefined;
  private guard = new TokenGuard(undefined);
  private readonly snapshots: SnapshotStore | undefined;
  private readonly startupModels = new WeakSet<ModelVersion>();
  /** Models named at start that could not be registered: the server is not ready while any is. */
  startupFailures: StartupOutcome['failures'] = [];
  /** Set when a shutdown begins: readiness fails, new work is refused, connections close. */
  draining = false;
  private accessLog: AccessLog | undefined;
  private readonly logDir: string;
  readonly version = SERVER_VERSION;
  readonly extraInferenceRoutes: ((app: Express) => void)[] = [];
  addresses: Addresses = { inference: '', management: '', metrics: '' };
  startupComplete = false;
  private readonly servers: Server[] = [];
  private webSockets: WebSocketServer | undefined;
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
    this.snapshots = options.snapshotDir === undefined ? undefined : new SnapshotStore(options.snapshotDir);
    this.logDir = options.logDir ?? process.env['LOG_LOCATION'] ?? 'logs';
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
      await gateway.listen();
      const outcome = options.config.model_snapshot
        ? await restoreSnapshot(gateway, options.config.model_snapshot)
        : await loadStartupModels(gateway, options.models ?? (options.config.load_models ? [options.config.load_models] : []));
      for (const v of outcome.loaded) gateway.startupModels.add(v);
      // Workflows come after the models: their nodes may name archives of the model store.
      const workflowFailures = await loadStartupWorkflows(gateway.workflows, options.config, gateway.logger, options.workflows ?? []);
      gateway.startupFailures = [...outcome.failures, ...workflowFailures];
      gateway.startupComplete = true;
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
    const deps: ListenerDeps = { guard: () => this.guard, metrics: this.metrics, accessLog: this.accessLog, draining: () => this.draining };
    const hot = { registry: this.registry, maxRequestBytes: config.max_request_size, maxBufferedChunks: config.stream_max_buffered_chunks };
    const options = { logger: this.logger, requestReadTimeoutMs: config.request_read_timeout * 1000 };
    const workflows = { ...hot, workflows: this.workflows, logger: this.logger, draining: () => this.draining };
    const inference = await listenOn(config.inference_address, 'inference_address', inferenceListener(deps, hot, createInferenceApp(this), workflows), options);
    this.servers.push(inference.server);
    // Upgrades bypass the request listener, so the WebSocket route runs the same token check.
    const authorize = (req: IncomingMessage): void => {
      const denied = this.draining ? new ModelServerError('SERVER_DRAINING') : this.guard.check(req, 'inference');
      if (denied) throw denied;
    };
    this.webSockets = attachWebSocket(inference.server, { ...hot, logger: this.logger, authorize });
    const management = await listenOn(config.management_address, 'management_address', managementListener(deps, createManagementApp(this)), options);
    this.servers.push(management.server);
    const metrics = await listenOn(config.metrics_address, 'metrics_address', metricsListener(deps, createMetricsApp(this)), options);
    this.servers.push(metrics.server);
    this.addresses = { inference: inference.url, management: management.url, metrics: metrics.url };
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

  /** Registers a model version from an archive and starts its workers. */
  async register(options: RegisterOptions): Promise<ModelVersion> {
    if (this.draining) throw new ModelServerError('SERVER_DRAINING');
    const unpacked = this.unpacked!;
    const archive = options.archive ?? (await unpacked.open(resolveModelPath(options.url, this.config.model_store)));
    let modelVersion: ModelVersion;
    try {
      const name = options.name ?? archive.manifest.model.modelName;
      const version = archive.manifest.model.modelVersion;
      const settings = resolveModelSettings(archive.modelConfig, this.config, `${options.url}/${archive.manifest.model.configFile ?? 'model-config.yaml'}`, options);
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
    for (const ws of this.webSockets?.clients ?? []) ws.terminate();
    this.webSockets?.close();
    await Promise.allSettled(this.registry.all().map((v) => v.drain()));
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
