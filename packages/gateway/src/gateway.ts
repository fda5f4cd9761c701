import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import type { WebSocketServer } from 'ws';
import { ModelServerError } from '@model-server/protocol';
import { UnpackCache } from '@model-server/worker';
import { createInferenceApp } from './apps/inference-app.js';
import { TokenGuard, type GuardedApi } from './auth/token-guard.js';
import { TokenStore } from './auth/token-store.js';
import { createManagementApp } from './apps/management-app.js';
import { createMetricsApp } from './apps/metrics-app.js';
import { resolveModelSettings, type ModelOverrides } from './config/model-config.js';
import type { ServerConfig } from './config/server-config.js';
import { isHttpsAddress, loadTlsMaterial } from './config/tls.js';
import { createListener, listen, listenerHandler, planListeners } from './http/listeners.js';
import type { GatewayContext } from './gateway-context.js';
import { handlePrediction } from './http/predictions.js';
import { sendError } from './http/send-error.js';
import { sendOipError } from './http/send-oip-error.js';
import { pathSegments } from './http/url.js';
import { attachWebSocket } from './http/websocket.js';
import { guardConnections } from './http/connection-guard.js';
import { createLogger, type Logger } from './logger.js';
import type { ManagementContext } from './management/management-context.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { handleV2Infer, matchInferPath } from './v2/infer-route.js';
import { listModelStore, parseModelSpecs, resolveModelPath, type ModelSpec } from './model-loader.js';
import { openModels, type OpenedModel } from './model-loader/open-model.js';
import { applyBlockDefaults, blockAsModelConfig, blockSpecs, modelsBlockEntry, parseModelsBlock, type ModelsBlock } from './config/models-block.js';
import { modelConfigWarnings } from './config/model-config-keys.js';
import { ModelRegistry } from './registry/model-registry.js';
import { ModelVersion } from './models/model-version.js';
import { buildModelSnapshot, parseModelSnapshot } from './snapshot/model-snapshot.js';
import { SnapshotStore, type SnapshotKind } from './snapshot/snapshot-store.js';
import { workerLaunch, type WorkerLaunch } from './config/vm-args.js';
import { SERVER_VERSION } from './version.js';

export { SERVER_VERSION } from './version.js';

export interface GatewayOptions {
  config: ServerConfig;
  /** Models to load at start (`--models`); `load_models` from the config is used when absent. */
  models?: readonly string[];
  logger?: Logger;
  /** How long a cancelled request may keep running before its worker is taken as hung. */
  cancelGraceMs?: number;
  /** Folder for config snapshots (TorchServe's `logs/config`); none are written when absent (`--ncs`). */
  snapshotDir?: string | undefined;
}

export interface RegisterOptions extends ModelOverrides {
  url: string;
  name?: string | undefined;
  /** Only this version, of a path that serves several (a snapshot restores one version per entry). */
  version?: string | undefined;
  /** Wait for the workers to load (default true). */
  synchronous?: boolean;
}

export interface Addresses {
  inference: string;
  management: string;
  metrics: string;
}

/** How often node checks connections against the header and request read timeouts. */
const CONNECTION_CHECK_MS = 1_000;

/** Hot routes: answered on plain node:http without express. */
const HOT_ROUTES: Record<string, 'predict' | 'explain'> = { predictions: 'predict', explanations: 'explain' };

/** The gateway: owns the three listeners, the model registry and every worker. */
export class Gateway implements GatewayContext, ManagementContext {
  readonly registry = new ModelRegistry();
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** The keys, when token authorization is on. */
  tokens: TokenStore | undefined;
  private guard = new TokenGuard(undefined);
  private readonly snapshots: SnapshotStore | undefined;
  /** config.properties' `models={...}` block, per model and version. */
  private readonly modelsBlock: ModelsBlock;
  private readonly startupModels = new WeakSet<ModelVersion>();
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
    this.modelsBlock = parseModelsBlock(config.models, 'models');
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
      if (options.config.model_snapshot) {
        await gateway.restoreSnapshot(options.config.model_snapshot);
      } else {
        const specs = options.models ?? (options.config.load_models ? [options.config.load_models] : []);
        // A config whose `models` block names archives (marName) and that lists no models loads those.
        await gateway.loadStartupModels(specs.length > 0 ? specs : blockSpecs(gateway.modelsBlock).map((b) => `${b.name}=${b.url}`));
      }
      gateway.startupComplete = true;
      await gateway.writeSnapshot('startup');
    } catch (err) {
      await gateway.stop();
      throw err;
    }
    return gateway;
  }

  private async listen(): Promise<void> {
    const inferenceApp = createInferenceApp(this);
    const hotDeps = {
      registry: this.registry,
      maxRequestBytes: this.config.max_request_size,
      maxBufferedChunks: this.config.stream_max_buffered_chunks,
    };
    const metrics = this.metrics;
    // Shared listeners (no closure per request) that count every response for Requests2XX/4XX/5XX;
    // 'finish' fires once per response, so `on` spares `once`'s wrapper.
    const countInference = function (this: ServerResponse): void {
      metrics.countResponse('inference', this.statusCode);
    };
    const countManagement = function (this: ServerResponse): void {
      metrics.countResponse('management', this.statusCode);
    };
    const inference = (req: IncomingMessage, res: ServerResponse): void => {
      res.on('finish', countInference);
      const denied = this.guard.check(req, 'inference');
      if (denied) {
        // KServe v1 and OIP clients expect their own error body, `{"error": ...}`.
        const id = { 'x-request-id': randomUUID() };
        if (req.url?.startsWith('/v1/') || req.url?.startsWith('/v2/')) sendOipError(res, denied, id);
        else sendError(res, denied, id);
        return;
      }
      const segments = pathSegments(req.url);
      const kind = segments && segments.length >= 1 ? HOT_ROUTES[segments[0]!] : undefined;
      if (kind && req.method !== 'OPTIONS') {
        handlePrediction(hotDeps, req, res, kind, segments!);
        return;
      }
      const infer = segments && req.method === 'POST' ? matchInferPath(segments) : undefined;
      if (infer) {
        void handleV2Infer(hotDeps, req, res, infer);
        return;
      }
      if (!segments) {
        sendError(res, new ModelServerError('BAD_REQUEST', { reason: 'Invalid URL encoding' }));
        return;
      }
      inferenceApp(req, res);
    };
    const managementApp = createManagementApp(this);
    const management = (req: IncomingMessage, res: ServerResponse): void => {
      res.on('finish', countManagement);
      const denied = this.guard.check(req, 'management');
      if (denied) {
        sendError(res, denied);
        return;
      }
      managementApp(req, res);
    };
    const handlers = { inference, management, metrics: createMetricsApp(this) };
    const plans = planListeners({ inference: this.config.inference_address, management: this.config.management_address, metrics: this.config.metrics_address });
    const tls = plans.some((p) => isHttpsAddress(p.address)) ? loadTlsMaterial(this.config, 'an https:// address') : undefined;
    const bound: Partial<Addresses> = {};
    for (const plan of plans) {
      const server = createListener(plan, listenerHandler(plan.apis, handlers), { keepAliveTimeoutMs: 65_000, connectionsCheckingIntervalMs: CONNECTION_CHECK_MS, tls });
      const readTimeoutMs = this.config.request_read_timeout * 1000;
      guardConnections(server, this.logger, { requestTimeoutMs: readTimeoutMs, headersTimeoutMs: readTimeoutMs });
      this.servers.push(server);
      const address = await listen(server, plan);
      for (const api of plan.apis) bound[api] = address;
      if (plan.apis.includes('inference')) {
        // Upgrades bypass the request handler above, so the WebSocket route runs the same token check.
        const authorize = (req: IncomingMessage): void => {
          const denied = this.guard.check(req, 'inference');
          if (denied) throw denied;
        };
        this.webSockets = attachWebSocket(server, { ...hotDeps, logger: this.logger, authorize });
      }
    }
    this.addresses = bound as Addresses;
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

  private async loadStartupModels(values: readonly string[]): Promise<void> {
    const specs: ModelSpec[] = [];
    for (const spec of parseModelSpecs(values)) {
      if (spec !== 'all') specs.push(spec);
      else if (this.config.model_store) specs.push(...(await listModelStore(this.config.model_store)));
      else throw new ModelServerError('CONFIG_INVALID', { file: '--models', reason: '"all" needs a model store (--model-store)' });
    }
    // Models load side by side; one failing model does not stop the others.
    const results = await Promise.allSettled(specs.map((s) => this.registerAll({ url: s.url, name: s.name, synchronous: true })));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.logger.error({ url: specs[i]!.url }, `failed to load model: ${(r.reason as Error).message}`);
      else for (const v of r.value) this.startupModels.add(v);
    });
    applyBlockDefaults(this.modelsBlock, this.registry, this.logger);
  }

  /** Registers the models of a config snapshot as they were (scale, batching, default version). */
  private async restoreSnapshot(text: string): Promise<void> {
    const snapshot = parseModelSnapshot(text, 'model_snapshot');
    const entries = Object.entries(snapshot.models).flatMap(([name, versions]) => Object.entries(versions).map(([version, v]) => ({ name, version, v })));
    this.logger.info({ models: entries.length }, 'restoring models from the config snapshot (--models and load_models are ignored)');
    const results = await Promise.allSettled(
      entries.map(({ name, version, v }) =>
        this.register({
          url: v.marName,
          name,
          version,
          synchronous: true,
          minWorkers: v.minWorkers,
          maxWorkers: v.maxWorkers,
          batchSize: v.batchSize,
          maxBatchDelayMs: v.maxBatchDelay,
          responseTimeoutMs: v.responseTimeout === undefined ? undefined : v.responseTimeout * 1000,
          startupTimeoutMs: v.startupTimeout === undefined ? undefined : v.startupTimeout * 1000,
        }),
      ),
    );
    results.forEach((r, i) => {
      const { name, version, v } = entries[i]!;
      if (r.status === 'rejected') {
        this.logger.error({ model: name, version, url: v.marName }, `failed to restore model: ${(r.reason as Error).message}`);
        return;
      }
      this.startupModels.add(r.value);
      if (r.value.version !== version) this.logger.warn({ model: name, version }, `${v.marName} now holds version ${r.value.version}`);
      if (v.defaultVersion) this.registry.setDefault(name, r.value.version);
    });
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
    await this.snapshots?.write(kind, this.config, (name) => buildModelSnapshot(this.registry, name));
  }

  /**
   * Registers a model from an archive (or a model without one) and starts its workers. A path serving
   * several versions (Triton's layout) registers each, the highest as default, and returns that one.
   */
  async register(options: RegisterOptions): Promise<ModelVersion> {
    return (await this.registerAll(options)).at(-1)!;
  }

  private async registerAll(options: RegisterOptions): Promise<ModelVersion[]> {
    const unpacked = this.unpacked!;
    let opened = await openModels(resolveModelPath(options.url, this.config.model_store), options.name, unpacked);
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

  async stop(): Promise<void> {
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
  }
}
