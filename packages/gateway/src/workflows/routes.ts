import { rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, Response } from 'express';
import { ModelServerError } from '@model-server/protocol';
import { MODEL_NAME_PATTERN, WORKFLOW_DEFAULTS } from '@model-server/archive';
import type { ServerConfig } from '../config/server-config.js';
import { flattenHeaders } from '../http/predictions.js';
import { HttpSink } from '../http/http-sink.js';
import { readInputs } from '../http/read-inputs.js';
import { NO_CACHE_HEADERS, sendError } from '../http/send-error.js';
import { noteRequest } from '../logging/access-log.js';
import type { Logger } from '../logging/logger.js';
import type { AllowedUrls } from '../management/allowed-urls.js';
import { archiveSource, type ArchiveStore } from '../management/archive-source.js';
import { Params } from '../management/params.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import { intHeader, publicRequestId, REQUEST_ID_HEADER, TIMEOUT_HEADER } from '../scheduling/submit-job.js';
import { runWorkflow } from './executor.js';
import type { WorkflowRegistry } from './registry.js';
import type { Workflow } from './workflow.js';

const MS_PER_S = 1000;

/** The workflow store, as registrations from it see it. */
export function workflowStore(config: ServerConfig): ArchiveStore {
  return {
    dir: config.workflow_store,
    label: 'workflow store',
    flag: '--workflow-store',
    extensions: ['war'],
    notFound: (detail) => new ModelServerError('WORKFLOW_NOT_FOUND', { workflow: detail }),
  };
}

export interface WorkflowRoutesContext {
  readonly config: ServerConfig;
  readonly registry: ModelRegistry;
  readonly workflows: WorkflowRegistry;
}

/** One element of `GET /workflows/{name}`: TorchServe's fields, then the nodes as served. */
function describeWorkflow(ctx: WorkflowRoutesContext, wf: Workflow): Record<string, unknown> {
  const { spec } = wf;
  const globals = { ...WORKFLOW_DEFAULTS, ...spec.globals };
  return {
    workflowName: wf.name,
    workflowUrl: wf.url,
    minWorkers: globals.minWorkers,
    maxWorkers: globals.maxWorkers,
    batchSize: globals.batchSize,
    maxBatchDelay: globals.maxBatchDelayMs,
    retryAttempts: globals.retryAttempts,
    timeoutMs: globals.timeoutMs,
    workflowDag: spec.dag.edges,
    startNode: spec.dag.start,
    leaves: spec.dag.leaves,
    nodes: [...wf.nodes.values()].map((n) => {
      const v = ctx.registry.find(n.model);
      return {
        name: n.name,
        type: n.kind,
        modelName: n.model,
        url: n.source,
        ...(v ? { minWorkers: v.settings.minWorkers, maxWorkers: v.settings.maxWorkers, batchSize: v.settings.batchSize, maxBatchDelay: v.settings.maxBatchDelayMs, liveWorkers: v.pool.liveCount } : {}),
        retryAttempts: n.retryAttempts,
        timeoutMs: n.timeoutMs,
      };
    }),
  };
}

/**
 * TorchServe's workflow management API on the management port: register from the workflow store or an
 * allowed URL (`enable_model_api`, as model registration), list (paged), describe, unregister.
 */
export function mountWorkflowManagement(app: Express, ctx: WorkflowRoutesContext, allowed: AllowedUrls): void {
  const status = (res: Response, message: string): void => void res.status(200).json({ status: message });

  app.post('/workflows', async (req, res) => {
    if (!ctx.config.enable_model_api) throw new ModelServerError('WORKFLOW_API_DISABLED');
    const params = Params.fromRequest(req);
    const url = params.string('url');
    if (!url) throw new ModelServerError('BAD_REQUEST', { reason: 'Parameter url is required.' });
    const name = params.string('workflow_name');
    if (name !== undefined && !MODEL_NAME_PATTERN.test(name)) {
      throw new ModelServerError('BAD_REQUEST', { reason: `Invalid workflow name "${name}": must match ${MODEL_NAME_PATTERN.source}` });
    }
    const responseTimeout = params.int('response_timeout', 1);
    const startupTimeout = params.int('startup_timeout', 1);
    const source = await archiveSource(url, workflowStore(ctx.config), allowed, ctx.config);
    let wf: Workflow;
    try {
      wf = await ctx.workflows.register({
        path: source.path,
        url,
        name,
        responseTimeoutMs: responseTimeout === undefined ? undefined : responseTimeout * MS_PER_S,
        startupTimeoutMs: startupTimeout === undefined ? undefined : startupTimeout * MS_PER_S,
      });
    } catch (err) {
      if (source.downloaded) await rm(source.downloaded, { force: true });
      throw err;
    }
    status(res, `Workflow ${wf.name} has been registered and scaled successfully.`);
  });

  app.get('/workflows', (req, res) => {
    const { items, nextPageToken } = Params.fromRequest(req).page(ctx.workflows.names());
    const body: Record<string, unknown> = nextPageToken === undefined ? {} : { nextPageToken };
    body['workflows'] = items.map((n) => ({ workflowName: n, workflowUrl: ctx.workflows.resolve(n).url }));
    res.json(body);
  });

  app.get('/workflows/:name', (req, res) => {
    res.json([describeWorkflow(ctx, ctx.workflows.resolve(req.params.name))]);
  });

  app.delete('/workflows/:name', async (req, res) => {
    if (!ctx.config.enable_model_api) throw new ModelServerError('WORKFLOW_API_DISABLED');
    await ctx.workflows.unregister(req.params.name, ctx.config.unregister_model_timeout * MS_PER_S);
    status(res, `Workflow "${req.params.name}" unregistered`);
  });
}

export interface WorkflowPredictionDeps {
  registry: ModelRegistry;
  workflows: WorkflowRegistry;
  /** A shutdown has begun: new requests are refused with SERVER_DRAINING (not 404: the workflow is there). */
  draining: () => boolean;
  logger: Logger;
  maxRequestBytes: number;
  maxBufferedChunks: number;
}

/** Sets the abort signal of a request whose client went away before its answer was written. */
function abortOnClientClose(res: ServerResponse, controller: AbortController): void {
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
}

/**
 * `POST /wfpredict/{workflow}` on the inference port, on plain node:http like `/predictions`: the same
 * body handling (a raw body is the input `body`, a form's parts are inputs by name), the workflow
 * resolved before the body is read, the answer written by the same sink.
 */
export function handleWorkflowPrediction(deps: WorkflowPredictionDeps, req: IncomingMessage, res: ServerResponse, segments: readonly string[]): void {
  const requestId = publicRequestId(req.headers[REQUEST_ID_HEADER]);
  const name = segments[1];
  const errorHeaders = { ...NO_CACHE_HEADERS, [REQUEST_ID_HEADER]: requestId };
  if (name) noteRequest(res, name, requestId);
  let workflow: Workflow;
  try {
    if (!name || segments.length > 2) throw new ModelServerError('RESOURCE_NOT_FOUND');
    if (req.method !== 'POST' && req.method !== 'PUT') throw new ModelServerError('METHOD_NOT_ALLOWED');
    workflow = deps.workflows.resolve(name);
    if (deps.draining()) throw new ModelServerError('SERVER_DRAINING');
  } catch (err) {
    sendError(res, err, errorHeaders);
    return;
  }
  readInputs(req, deps.maxRequestBytes, (readError, inputs) => {
    try {
      if (readError !== undefined) throw readError;
      if (deps.draining()) throw new ModelServerError('SERVER_DRAINING');
      if (workflow.closed) throw new ModelServerError('WORKFLOW_NOT_FOUND', { workflow: workflow.name });
      const headers = flattenHeaders(req);
      const timeoutMs = intHeader(headers[TIMEOUT_HEADER], TIMEOUT_HEADER, 1);
      delete headers[TIMEOUT_HEADER];
      const controller = new AbortController();
      abortOnClientClose(res, controller);
      const sink = new HttpSink(res, requestId, deps.maxBufferedChunks);
      workflow.begin();
      runWorkflow(deps, workflow, { requestId, headers, inputs: inputs!, signal: controller.signal, timeoutMs })
        .then(
          (part) => sink.complete(part),
          (err: unknown) => {
            if (controller.signal.aborted) return;
            const error = err instanceof ModelServerError ? err : new ModelServerError('INTERNAL', { message: String(err) });
            // As for models: the server's faults at error, a refused input at info.
            const fields = { workflow: workflow.name, requestId, status: error.status };
            if (error.status >= 500) deps.logger.error(fields, error.message);
            else deps.logger.info(fields, error.message);
            sink.fail(error);
          },
        )
        .finally(() => workflow.end());
    } catch (err) {
      sendError(res, err, errorHeaders);
    }
  });
}
