import { ModelServerError } from '@model-server/protocol/wire';
import { MODEL_NAME_PATTERN } from './names.js';

/** More nodes than any workflow needs; each is a model with workers of its own. */
export const MAX_WORKFLOW_NODES = 100;

/**
 * A workflow's graph as TorchServe defines it: exactly one start node (no parents), no self loops, no
 * cycles. Lists follow the spec's order, so inputs and answers come out the same way each time.
 */
export interface WorkflowDag {
  /** Every node, parents before children: breadth first from the start node, children in the spec's order. */
  readonly nodes: readonly string[];
  /** The node that receives the request. */
  readonly start: string;
  /** Nodes without children, in the order the spec first names them: their outputs make the answer. */
  readonly leaves: readonly string[];
  readonly children: ReadonlyMap<string, readonly string[]>;
  readonly parents: ReadonlyMap<string, readonly string[]>;
  /** The `dag:` section as written (every node a key), for describe. */
  readonly edges: Readonly<Record<string, readonly string[]>>;
}

/**
 * Builds the graph from the `dag:` section (`node: [children]`) and refuses what TorchServe refuses,
 * naming the node: bad names, self loops, a child listed twice, cycles (with the path), no or several
 * start nodes. `archive` names the workflow archive in the error.
 */
export function buildDag(section: unknown, archive: string): WorkflowDag {
  const bad = (reason: string): never => {
    throw new ModelServerError('WORKFLOW_DAG_INVALID', { archive, reason });
  };
  if (section === null || typeof section !== 'object' || Array.isArray(section)) bad('dag must be a mapping of node: [children]');
  const children = new Map<string, string[]>();
  const order: string[] = [];
  const see = (node: unknown, where: string): string => {
    if (typeof node !== 'string' || !MODEL_NAME_PATTERN.test(node)) bad(`${where}: node name ${JSON.stringify(node)} must match ${MODEL_NAME_PATTERN.source}`);
    const name = node as string;
    if (!children.has(name)) {
      children.set(name, []);
      order.push(name);
    }
    return name;
  };
  for (const [node, list] of Object.entries(section as Record<string, unknown>)) {
    see(node, 'dag');
    if (list !== null && !Array.isArray(list)) bad(`dag.${node} must be a list of child nodes (got ${JSON.stringify(list)})`);
    for (const child of (list ?? []) as unknown[]) {
      const name = see(child, `dag.${node}`);
      if (name === node) bad(`node ${node} lists itself as a child (a self loop)`);
      const own = children.get(node)!;
      if (own.includes(name)) bad(`dag.${node} lists ${name} twice`);
      own.push(name);
    }
  }
  if (order.length === 0) bad('dag has no nodes');
  if (order.length > MAX_WORKFLOW_NODES) bad(`dag has ${order.length} nodes, more than ${MAX_WORKFLOW_NODES}`);
  const parents = new Map<string, string[]>(order.map((n) => [n, []]));
  for (const node of order) for (const child of children.get(node)!) parents.get(child)!.push(node);

  const cycle = findCycle(order, children);
  if (cycle) bad(`the graph has a cycle: ${cycle.join(' -> ')}`);
  const starts = order.filter((n) => parents.get(n)!.length === 0);
  if (starts.length > 1) bad(`several start nodes (${starts.join(', ')}): a workflow has exactly one node without parents`);

  // Kahn's algorithm, taking ready nodes in the spec's order.
  const waiting = new Map(order.map((n) => [n, parents.get(n)!.length]));
  const sorted: string[] = [];
  const ready = [starts[0]!];
  while (ready.length > 0) {
    const node = ready.shift()!;
    sorted.push(node);
    for (const child of children.get(node)!) {
      const left = waiting.get(child)! - 1;
      waiting.set(child, left);
      if (left === 0) ready.push(child);
    }
  }
  return {
    nodes: sorted,
    start: starts[0]!,
    leaves: order.filter((n) => children.get(n)!.length === 0),
    children,
    parents,
    edges: Object.fromEntries(order.map((n) => [n, [...children.get(n)!]])),
  };
}

/** The first cycle found by depth-first search, as a path that ends where it starts, or undefined. */
function findCycle(order: readonly string[], children: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    path.push(node);
    for (const child of children.get(node)!) {
      const s = state.get(child);
      if (s === 'open') return [...path.slice(path.indexOf(child)), child];
      if (s === undefined) {
        const found = visit(child);
        if (found) return found;
      }
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of order) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}
