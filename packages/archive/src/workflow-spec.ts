import { parse as parseYaml } from 'yaml';
import { ModelServerError } from '@model-server/protocol/wire';
import { buildDag, type WorkflowDag } from './workflow-dag.js';

/** A node's serving properties as the spec names them (TorchServe's keys), in our units. */
export interface NodeProperties {
  minWorkers?: number;
  maxWorkers?: number;
  batchSize?: number;
  /** `max-batch-delay`, milliseconds. */
  maxBatchDelayMs?: number;
  /** Retries after a failed attempt (so `retryAttempts + 1` attempts in all). */
  retryAttempts?: number;
  /** Deadline of one attempt of the node, milliseconds. */
  timeoutMs?: number;
}

/** The spec's property keys, what each becomes, and its lower bound. */
const PROPERTIES: Readonly<Record<string, { key: keyof NodeProperties; min: number }>> = {
  'min-workers': { key: 'minWorkers', min: 0 },
  'max-workers': { key: 'maxWorkers', min: 0 },
  'batch-size': { key: 'batchSize', min: 1 },
  'max-batch-delay': { key: 'maxBatchDelayMs', min: 0 },
  'retry-attempts': { key: 'retryAttempts', min: 0 },
  'timeout-ms': { key: 'timeoutMs', min: 1 },
};

/** TorchServe's values for a property that neither the node nor the globals set. */
export const WORKFLOW_DEFAULTS: Readonly<Required<NodeProperties>> = Object.freeze({
  minWorkers: 1,
  maxWorkers: 1,
  batchSize: 1,
  maxBatchDelayMs: 50,
  retryAttempts: 1,
  timeoutMs: 10_000,
});

/** A node of `models:`: a model archive served as the model `<workflow>__<node>`. */
export interface ModelNodeSpec {
  /** The archive: a file of the workflow archive, a name in the model store, or a URL. */
  readonly url: string;
  /** Its own properties (the globals not merged in). */
  readonly properties: Readonly<NodeProperties>;
}

export interface WorkflowSpec {
  /** The properties set at the top of `models:`, for every node that does not set its own. */
  readonly globals: Readonly<NodeProperties>;
  readonly models: ReadonlyMap<string, ModelNodeSpec>;
  readonly dag: WorkflowDag;
  /** Nodes that are functions of the handler module (every dag node not in `models:`), in dag order. */
  readonly functions: readonly string[];
}

export interface SpecContext {
  /** The workflow archive, named in errors. */
  archive: string;
  /** The handler module's file in the archive, or undefined when the workflow has none. */
  handler: string | undefined;
  /** The functions the handler module exports, when known (the archiver records them): unknown names are refused. */
  exports: readonly string[] | undefined;
}

/** A node's properties: its own over the globals over TorchServe's defaults. */
export function nodeProperties(spec: WorkflowSpec, node: string): Required<NodeProperties> {
  return { ...WORKFLOW_DEFAULTS, ...spec.globals, ...spec.models.get(node)?.properties };
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Reads one property value, or throws naming its path. */
function property(path: string, name: string, value: unknown, archive: string): [keyof NodeProperties, number] {
  const p = PROPERTIES[name]!;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < p.min) {
    throw new ModelServerError('INVALID_WORKFLOW_ARCHIVE', { archive, reason: `${path}.${name} must be an integer >= ${p.min} (got ${JSON.stringify(value)})` });
  }
  return [p.key, value];
}

function checkWorkers(path: string, props: NodeProperties, archive: string): void {
  if (props.minWorkers !== undefined && props.maxWorkers !== undefined && props.maxWorkers < props.minWorkers) {
    throw new ModelServerError('INVALID_WORKFLOW_ARCHIVE', { archive, reason: `${path}: max-workers (${props.maxWorkers}) is less than min-workers (${props.minWorkers})` });
  }
}

/**
 * Parses and checks a workflow spec (TorchServe's YAML: `models:` with global properties and one entry
 * per model node, `dag:` with `node: [children]`). Property and syntax errors are
 * INVALID_WORKFLOW_ARCHIVE; graph errors (see buildDag), model nodes missing from the dag, and dag nodes
 * that are neither models nor functions of the handler are WORKFLOW_DAG_INVALID. All name the key.
 */
export function parseWorkflowSpec(text: string, ctx: SpecContext): WorkflowSpec {
  const { archive } = ctx;
  const invalid = (reason: string): never => {
    throw new ModelServerError('INVALID_WORKFLOW_ARCHIVE', { archive, reason });
  };
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new ModelServerError('INVALID_WORKFLOW_ARCHIVE', { archive, reason: `the spec is not YAML: ${(cause as Error).message}` }, { cause });
  }
  if (!isMapping(doc)) return invalid('the spec must be a mapping with models: and dag:');
  for (const key of Object.keys(doc)) if (key !== 'models' && key !== 'dag') invalid(`unknown top-level key "${key}" (a spec has models: and dag:)`);
  const section = doc['models'] ?? {};
  if (!isMapping(section)) return invalid('models must be a mapping');

  const globals: NodeProperties = {};
  const models = new Map<string, ModelNodeSpec>();
  for (const [key, value] of Object.entries(section)) {
    if (key in PROPERTIES) {
      const [k, v] = property('models', key, value, archive);
      globals[k] = v;
      continue;
    }
    if (!isMapping(value)) {
      return invalid(`models.${key} is neither a property (${Object.keys(PROPERTIES).join(', ')}) nor a model node {url: ..., ...}`);
    }
    const properties: NodeProperties = {};
    let url: string | undefined;
    for (const [name, v] of Object.entries(value)) {
      if (name === 'url') {
        if (typeof v !== 'string' || v === '') invalid(`models.${key}.url must be a non-empty string`);
        url = v as string;
      } else if (name in PROPERTIES) {
        const [k, n] = property(`models.${key}`, name, v, archive);
        properties[k] = n;
      } else {
        invalid(`models.${key}: unknown key "${name}" (expected url or one of ${Object.keys(PROPERTIES).join(', ')})`);
      }
    }
    if (url === undefined) invalid(`models.${key} has no url`);
    models.set(key, { url: url!, properties });
  }
  checkWorkers('models', globals, archive);
  for (const [key, node] of models) checkWorkers(`models.${key}`, { ...globals, ...node.properties }, archive);

  const dag = buildDag(doc['dag'], archive);
  const graphError = (reason: string): never => {
    throw new ModelServerError('WORKFLOW_DAG_INVALID', { archive, reason });
  };
  for (const name of models.keys()) if (!dag.children.has(name)) graphError(`model node ${name} is in models: but not in the dag`);
  const functions = dag.nodes.filter((n) => !models.has(n));
  for (const fn of functions) {
    if (ctx.handler === undefined) graphError(`node ${fn} is not a model of models: and the workflow has no handler module for function nodes`);
    if (ctx.exports && !ctx.exports.includes(fn)) {
      const exported = ctx.exports.length === 0 ? 'nothing' : ctx.exports.join(', ');
      graphError(`node ${fn} is not a model of models: nor a function of ${ctx.handler} (it exports ${exported})`);
    }
  }
  return { globals, models, dag, functions };
}
