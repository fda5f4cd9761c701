import { nodeProperties, WORKFLOW_DEFAULTS, type OpenedArchive, type OpenedWorkflow, type WorkflowSpec } from '@model-server/archive';
import type { ModelOverrides } from '../config/model-config.js';

/** The model that serves a node: TorchServe's `<workflow>__<node>`. */
export function nodeModelName(workflow: string, node: string): string {
  return `${workflow}__${node}`;
}

/** The model-config.yaml keys (ours and Triton's) that set each overridable setting. */
const CONFIG_KEYS: Readonly<Record<'minWorkers' | 'maxWorkers' | 'batchSize' | 'maxBatchDelayMs', readonly string[]>> = {
  minWorkers: ['minWorkers'],
  maxWorkers: ['maxWorkers'],
  batchSize: ['batchSize', 'max_batch_size'],
  maxBatchDelayMs: ['maxBatchDelay', 'max_queue_delay_microseconds'],
};

/**
 * How a node's model is registered: a property the spec sets (on the node, or globally) wins; one it
 * leaves out keeps the node archive's own model-config.yaml value, and where that is silent too,
 * TorchServe's workflow default applies (1 worker, batch 1, 50 ms). `registration` carries the
 * `POST /workflows` timeouts.
 */
export function nodeOverrides(spec: WorkflowSpec, node: string, archiveConfig: Record<string, unknown>, registration: ModelOverrides): ModelOverrides {
  const own = { ...spec.globals, ...spec.models.get(node)?.properties };
  const pick = (key: keyof typeof CONFIG_KEYS): number | undefined =>
    own[key] ?? (CONFIG_KEYS[key].some((k) => archiveConfig[k] !== undefined) ? undefined : WORKFLOW_DEFAULTS[key]);
  return {
    minWorkers: pick('minWorkers'),
    maxWorkers: pick('maxWorkers'),
    batchSize: pick('batchSize'),
    maxBatchDelayMs: pick('maxBatchDelayMs'),
    responseTimeoutMs: registration.responseTimeoutMs,
    startupTimeoutMs: registration.startupTimeoutMs,
  };
}

/** A node's retries and per-attempt deadline. */
export function nodeRetryPolicy(spec: WorkflowSpec, node: string): { retryAttempts: number; timeoutMs: number } {
  const { retryAttempts, timeoutMs } = nodeProperties(spec, node);
  return { retryAttempts, timeoutMs };
}

/**
 * The archive a function node's model is served from: the workflow's own folder, with a manifest made
 * for the node whose handler is `handler.js:<function>` (the worker's loader picks that export). It is
 * not unpacked for the node: the workflow owns the folder and removes it.
 */
export function functionNodeArchive(workflow: OpenedWorkflow, model: string, fn: string): OpenedArchive {
  const handler = workflow.manifest.workflow.handler;
  if (handler === undefined) throw new Error(`function node ${fn} in a workflow without a handler: this is a bug (the spec check refuses it)`);
  return {
    modelDir: workflow.dir,
    manifest: { runtime: 'node', model: { modelName: model, modelVersion: '1.0', handler: `${handler}:${fn}` } },
    modelConfig: {},
    unpacked: false,
  };
}
