import type { InferenceInput } from '@model-server/protocol';
import type { WorkflowDag } from '@model-server/archive';
import type { ResponsePart } from '../scheduling/job.js';

/** A node ready to run, with its inputs made from its parents' outputs. */
export interface ReadyNode {
  node: string;
  inputs: InferenceInput[];
}

const OCTET_STREAM = 'application/octet-stream';

/**
 * One request's way through a workflow's graph: which nodes have answered, which children that makes
 * ready, and what they get (TorchServe's rule: one parent's output is the child's `body`; several
 * parents give one input each, named by the parent). A parent's output is dropped once every child
 * has its inputs, unless it is a leaf and so part of the answer.
 */
export class DagProgress {
  private readonly outputs = new Map<string, ResponsePart>();
  /** Parents each node still waits for. */
  private readonly waiting = new Map<string, number>();
  /** Children each node still has to hand its output to. */
  private readonly handing = new Map<string, number>();
  private answered = 0;

  constructor(private readonly dag: WorkflowDag) {
    for (const node of dag.nodes) {
      this.waiting.set(node, dag.parents.get(node)!.length);
      this.handing.set(node, dag.children.get(node)!.length);
    }
  }

  /** Every node has answered. */
  get finished(): boolean {
    return this.answered === this.dag.nodes.length;
  }

  /** Records a node's output and returns the children it made ready, in the spec's order. */
  complete(node: string, part: ResponsePart): ReadyNode[] {
    this.answered++;
    this.outputs.set(node, part);
    const ready: ReadyNode[] = [];
    for (const child of this.dag.children.get(node)!) {
      const left = this.waiting.get(child)! - 1;
      this.waiting.set(child, left);
      if (left > 0) continue;
      const parents = this.dag.parents.get(child)!;
      ready.push({ node: child, inputs: parents.map((p) => this.input(p, parents.length === 1 ? 'body' : p)) });
      for (const p of parents) this.handed(p);
    }
    return ready;
  }

  /** The leaves' outputs, in the spec's order (once finished). */
  leafOutputs(): [string, ResponsePart][] {
    return this.dag.leaves.map((leaf) => [leaf, this.outputs.get(leaf)!]);
  }

  private input(parent: string, name: string): InferenceInput {
    const part = this.outputs.get(parent)!;
    return { name, contentType: part.contentType ?? OCTET_STREAM, data: part.body };
  }

  private handed(parent: string): void {
    const left = this.handing.get(parent)! - 1;
    this.handing.set(parent, left);
    if (left === 0 && this.dag.children.get(parent)!.length > 0) this.outputs.delete(parent);
  }
}
