import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { ModelServerError } from '@model-server/protocol';
import { MODEL_NAME_PATTERN, safeEntryPath, type OpenedArchive, type OpenedWorkflow } from '@model-server/archive';
import type { ModelOverrides } from '../config/model-config.js';
import type { ServerConfig } from '../config/server-config.js';
import type { RegisterOptions } from '../gateway.js';
import type { Logger } from '../logging/logger.js';
import { AllowedUrls } from '../management/allowed-urls.js';
import { archiveSource, modelStore } from '../management/archive-source.js';
import type { ModelVersion } from '../models/model-version.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import { functionNodeArchive, nodeModelName, nodeOverrides, nodeRetryPolicy } from './spec.js';
import { Workflow, type WorkflowNode } from './workflow.js';

/** What the workflow registry needs of the gateway. */
export interface WorkflowHost {
  readonly config: ServerConfig;
  readonly registry: ModelRegistry;
  readonly logger: Logger;
  /** Opens a model archive through the gateway's unpack cache (the version registered from it releases it). */
  openArchive(path: string): Promise<OpenedArchive>;
  openWorkflow(path: string): Promise<OpenedWorkflow>;
  releaseWorkflow(workflow: OpenedWorkflow): Promise<void>;
  register(options: RegisterOptions): Promise<ModelVersion>;
  unregister(name: string, version: string, graceMs?: number): Promise<void>;
}

export interface WorkflowRegistration extends Pick<ModelOverrides, 'responseTimeoutMs' | 'startupTimeoutMs'> {
  /** The archive to open (a `.war` or a folder). */
  path: string;
  /** The `url` as given, shown by list and describe. */
  url: string;
  /** The name to serve it as; default the manifest's `workflowName`. */
  name?: string | undefined;
}

/**
 * The registered workflows. Registering one registers every node as a model of the server, named
 * `<workflow>__<node>` (own workers, queue, batching, metrics; listed by `GET /models`), waits for
 * their workers, and undoes all of it when any node cannot start. The node models belong to their
 * workflow: they are unregistered with it and cannot be unregistered alone.
 */
export class WorkflowRegistry {
  private readonly workflows = new Map<string, Workflow>();
  /** Names being registered, so two registrations of one name cannot race. */
  private readonly pending = new Set<string>();
  /** Node model name -> its workflow's name (pending registrations included). */
  private readonly owners = new Map<string, string>();
  private readonly allowed: AllowedUrls;

  constructor(private readonly host: WorkflowHost) {
    this.allowed = new AllowedUrls(host.config.allowed_urls);
  }

  /** The workflow, or WORKFLOW_NOT_FOUND. */
  resolve(name: string): Workflow {
    const wf = this.workflows.get(name);
    if (!wf) throw new ModelServerError('WORKFLOW_NOT_FOUND', { workflow: name });
    return wf;
  }

  names(): string[] {
    return [...this.workflows.keys()].sort();
  }

  all(): Workflow[] {
    return [...this.workflows.values()];
  }

  /** The workflow a model serves a node of, if any. */
  ownerOf(model: string): string | undefined {
    return this.owners.get(model);
  }

  async register(options: WorkflowRegistration): Promise<Workflow> {
    const archive = await this.host.openWorkflow(options.path);
    const name = options.name ?? archive.manifest.workflow.workflowName;
    const release = (): Promise<void> => this.host.releaseWorkflow(archive);
    if (!MODEL_NAME_PATTERN.test(name)) {
      await release();
      throw new ModelServerError('BAD_REQUEST', { reason: `Invalid workflow name "${name}": must match ${MODEL_NAME_PATTERN.source}` });
    }
    if (this.workflows.has(name) || this.pending.has(name)) {
      await release();
      throw new ModelServerError('CONFLICT', { reason: `Workflow ${name} is already registered` });
    }
    this.pending.add(name);
    const { spec } = archive;
    const nodes = new Map<string, WorkflowNode>();
    for (const node of spec.dag.nodes) {
      const model = nodeModelName(name, node);
      const kind = spec.models.has(node) ? 'model' : 'function';
      const source = kind === 'model' ? spec.models.get(node)!.url : `${archive.manifest.workflow.handler}:${node}`;
      nodes.set(node, { name: node, kind, model, source, ...nodeRetryPolicy(spec, node) });
    }
    const taken = [...nodes.values()].find((n) => this.host.registry.find(n.model) || this.owners.has(n.model));
    if (taken) {
      this.pending.delete(name);
      await release();
      throw new ModelServerError('CONFLICT', { reason: `Model ${taken.model} (node ${taken.name} of workflow ${name}) is already registered` });
    }
    for (const n of nodes.values()) this.owners.set(n.model, name);
    const registered: ModelVersion[] = [];
    try {
      // Side by side: each node's workers load while the others' do.
      const results = await Promise.allSettled([...nodes.values()].map((n) => this.registerNode(archive, n, options)));
      for (const r of results) if (r.status === 'fulfilled') registered.push(r.value);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (err) {
      await Promise.allSettled(registered.map((v) => this.host.unregister(v.name, v.version, 0)));
      for (const n of nodes.values()) this.owners.delete(n.model);
      this.pending.delete(name);
      await release();
      throw err;
    }
    const workflow = new Workflow(name, options.url, archive, nodes);
    this.pending.delete(name);
    this.workflows.set(name, workflow);
    this.host.logger.info({ workflow: name, nodes: [...nodes.keys()] }, 'workflow registered');
    return workflow;
  }

  /** Registers one node's model and waits for its workers; refuses it when they do not start. */
  private async registerNode(workflow: OpenedWorkflow, node: WorkflowNode, options: WorkflowRegistration): Promise<ModelVersion> {
    const { spec } = workflow;
    const opened = node.kind === 'model' ? await this.openModelNode(workflow, node) : functionNodeArchive(workflow, node.model, node.name);
    const version = await this.host.register({
      url: node.source,
      name: node.model,
      archive: opened,
      synchronous: true,
      ...nodeOverrides(spec, node.name, opened.modelConfig, options),
    });
    const workers = version.settings.minWorkers;
    if (workers > 0 && version.pool.liveCount < workers) {
      const reason = version.pool.lastError?.message ?? 'workers did not start';
      await this.host.unregister(version.name, version.version, 0).catch(() => undefined);
      throw new ModelServerError('WORKERS_START_FAILED', { model: version.name, version: version.version, reason });
    }
    return version;
  }

  /**
   * A model node's archive: a file of the workflow archive when it holds one of that name (the
   * archive then carries its models), else what the url names as `POST /models` reads it (the model
   * store, a file:// URL, an allowed http(s) URL).
   */
  private async openModelNode(workflow: OpenedWorkflow, node: WorkflowNode): Promise<OpenedArchive> {
    const url = node.source;
    if (!isAbsolute(url) && !/^[a-z][a-z0-9+.-]*:/i.test(url)) {
      const inside = safeEntryPath(workflow.dir, url, workflow.dir, `models.${node.name}.url`);
      if (await stat(inside).then(() => true, () => false)) return this.host.openArchive(inside);
    }
    const source = await archiveSource(url, modelStore(this.host.config), this.allowed, this.host.config);
    return this.host.openArchive(source.path);
  }

  /**
   * Unregisters a workflow: it leaves the list at once (new requests: 404), the requests running
   * through it get `graceMs` to finish, then its node models drain and go, then its archive.
   */
  async unregister(name: string, graceMs: number): Promise<void> {
    const workflow = this.resolve(name);
    this.workflows.delete(name);
    const started = performance.now();
    await workflow.close(graceMs);
    const left = Math.max(0, graceMs - (performance.now() - started));
    try {
      await Promise.all(
        [...workflow.nodes.values()].map(async (n) => {
          const version = this.host.registry.find(n.model);
          if (version) await this.host.unregister(version.name, version.version, left);
        }),
      );
    } finally {
      for (const n of workflow.nodes.values()) this.owners.delete(n.model);
      await this.host.releaseWorkflow(workflow.archive);
    }
    this.host.logger.info({ workflow: name }, 'workflow unregistered');
  }

  /** At shutdown: every workflow stops taking requests; resolves once the running ones ended or `graceMs` passed. */
  async close(graceMs: number): Promise<void> {
    await Promise.all(this.all().map((w) => w.close(graceMs)));
  }
}
