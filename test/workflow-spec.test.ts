import { describe, expect, it } from 'vitest';
import { ModelServerError } from '@model-server/protocol';
import { buildDag, nodeProperties, parseWorkflowSpec, type SpecContext, type WorkflowSpec } from '@model-server/archive';
import { workflowAnswer } from '@model-server/gateway/internal/workflows/answer';
import { DagProgress } from '@model-server/gateway/internal/workflows/dag';
import { nodeOverrides } from '@model-server/gateway/internal/workflows/spec';
import type { ResponsePart } from '@model-server/gateway/internal/scheduling/job';

const ctx: SpecContext = { archive: 'wf.war', handler: 'handler.js', exports: undefined };
const parse = (yaml: string, c: Partial<SpecContext> = {}): WorkflowSpec => parseWorkflowSpec(yaml, { ...ctx, ...c });

/** The error a call throws, as code and message. */
function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ModelServerError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

const part = (text: string, contentType = 'text/plain'): ResponsePart => ({ status: 200, contentType, headers: {}, body: new TextEncoder().encode(text) });

describe('workflow spec', () => {
  it("reads TorchServe's spec: global properties, per-model overrides, TorchServe's defaults underneath", () => {
    const spec = parse(`
models:
  min-workers: 2
  max-workers: 4
  batch-size: 3
  max-batch-delay: 5000
  retry-attempts: 3
  timeout-ms: 5000
  m1:
    url: model1.mar
    max-workers: 2
    batch-size: 4
  m2:
    url: model2.mar
dag:
  pre_processing: [m1, m2]
  m1: [aggregate_func]
  m2: [aggregate_func]
`);
    expect(nodeProperties(spec, 'm1')).toEqual({ minWorkers: 2, maxWorkers: 2, batchSize: 4, maxBatchDelayMs: 5000, retryAttempts: 3, timeoutMs: 5000 });
    expect(nodeProperties(spec, 'm2')).toMatchObject({ maxWorkers: 4, batchSize: 3 });
    expect(spec.functions).toEqual(['pre_processing', 'aggregate_func']);
    expect(spec.dag.nodes).toEqual(['pre_processing', 'm1', 'm2', 'aggregate_func']);
    expect(spec.dag.parents.get('aggregate_func')).toEqual(['m1', 'm2']);
    expect(spec.dag.leaves).toEqual(['aggregate_func']);
    expect(nodeProperties(parse('dag:\n  a: []\n'), 'a')).toEqual({ minWorkers: 1, maxWorkers: 1, batchSize: 1, maxBatchDelayMs: 50, retryAttempts: 1, timeoutMs: 10000 });
  });

  it('names the key of a bad property, an unknown key and a model without url', () => {
    expect(refusal(() => parse('models:\n  timeout-ms: fast\ndag:\n  a: []\n'))).toEqual({
      code: 'INVALID_WORKFLOW_ARCHIVE',
      message: 'Invalid workflow archive wf.war: models.timeout-ms must be an integer >= 1 (got "fast")',
    });
    expect(refusal(() => parse('models:\n  m: {url: m.mar, batchsize: 2}\ndag:\n  m: []\n')).message).toMatch(/models\.m: unknown key "batchsize"/);
    expect(refusal(() => parse('models:\n  m: {batch-size: 2}\ndag:\n  m: []\n')).message).toMatch(/models\.m has no url$/);
    expect(refusal(() => parse('models:\n  m: 3\ndag:\n  m: []\n')).message).toMatch(/models\.m is neither a property/);
    expect(refusal(() => parse('models:\n  min-workers: 3\n  max-workers: 2\ndag:\n  a: []\n')).message).toMatch(/max-workers \(2\) is less than min-workers \(3\)/);
    expect(refusal(() => parse('model:\n  a: 1\ndag:\n  a: []\n')).message).toMatch(/unknown top-level key "model"/);
    expect(refusal(() => parse('dag: [a, b]\n')).code).toBe('WORKFLOW_DAG_INVALID');
    expect(refusal(() => parse(':\n  - [')).message).toMatch(/the spec is not YAML/);
  });
});

describe('workflow graph', () => {
  const dagError = (edges: Record<string, string[] | null>): string => refusal(() => buildDag(edges, 'wf.war')).message.replace('Invalid workflow DAG in wf.war: ', '');

  it('refuses cycles (with their path), several start nodes, self loops, duplicates, bad names and an empty dag', () => {
    expect(dagError({ a: ['b'], b: ['c'], c: ['a'] })).toBe('the graph has a cycle: a -> b -> c -> a');
    expect(dagError({ s: ['a'], a: ['b'], b: ['a'] })).toBe('the graph has a cycle: a -> b -> a');
    expect(dagError({ a: ['c'], b: ['c'] })).toBe('several start nodes (a, b): a workflow has exactly one node without parents');
    expect(dagError({ a: ['a'] })).toBe('node a lists itself as a child (a self loop)');
    expect(dagError({ a: ['b', 'b'] })).toBe('dag.a lists b twice');
    expect(dagError({ 'a b': [] })).toMatch(/node name "a b" must match/);
    expect(dagError({})).toBe('dag has no nodes');
  });

  it('orders nodes parents first, breadth first, and keeps parents and leaves in the order the spec names them', () => {
    const dag = buildDag({ start: ['x', 'y'], y: ['join'], x: ['join', 'leaf'], join: null }, 'wf.war');
    expect(dag.start).toBe('start');
    expect(dag.nodes).toEqual(['start', 'x', 'y', 'leaf', 'join']);
    expect(dag.parents.get('join')).toEqual(['x', 'y']);
    expect(dag.leaves).toEqual(['join', 'leaf']);
  });

  it('refuses dag nodes that are neither models nor exported functions, and models outside the dag', () => {
    expect(refusal(() => parse('dag:\n  a: [b]\n', { handler: undefined })).message).toMatch(/node a is not a model of models: and the workflow has no handler module/);
    expect(refusal(() => parse('dag:\n  a: [b]\n', { exports: ['a', 'default'] })).message).toMatch(/node b is not a model of models: nor a function of handler.js \(it exports a, default\)/);
    expect(refusal(() => parse('models:\n  m: {url: m.mar}\ndag:\n  a: []\n', { exports: ['a'] })).message).toMatch(/model node m is in models: but not in the dag/);
    expect(parse('dag:\n  a: [b]\n', { exports: ['a', 'b'] }).functions).toEqual(['a', 'b']);
  });
});

describe('one request through a graph', () => {
  it('hands a single parent\'s output as body, several parents\' outputs by name, and keeps leaves for the answer', () => {
    const dag = buildDag({ s: ['a', 'b'], a: ['j'], b: ['j', 'l'] }, 'wf.war');
    const run = new DagProgress(dag);
    const ready = run.complete('s', part('{"v":1}', 'application/json'));
    expect(ready.map((r) => [r.node, r.inputs.map((i) => [i.name, i.contentType])])).toEqual([
      ['a', [['body', 'application/json']]],
      ['b', [['body', 'application/json']]],
    ]);
    expect(run.complete('b', part('B'))).toEqual([{ node: 'l', inputs: [{ name: 'body', contentType: 'text/plain', data: part('B').body }] }]);
    expect(run.complete('l', part('L'))).toEqual([]);
    const join = run.complete('a', part('A'));
    expect(join.map((r) => [r.node, r.inputs.map((i) => i.name)])).toEqual([['j', ['a', 'b']]]);
    expect(run.finished).toBe(false);
    run.complete('j', part('{"joined":true}', 'application/json'));
    expect(run.finished).toBe(true);
    expect(run.leafOutputs().map(([n]) => n)).toEqual(['j', 'l']);
  });

  it('answers one leaf as it is, several as a JSON object (JSON parsed, text as text, bytes as base64)', () => {
    const one = part('raw', 'text/x-thing');
    expect(workflowAnswer([['only', one]])).toBe(one);
    const bytes: ResponsePart = { status: 200, headers: {}, body: new Uint8Array([0xff, 0xfe, 0x00]) };
    const many = workflowAnswer([
      ['j', part('{"n":1}', 'application/json')],
      ['t', part('plain words')],
      ['b', bytes],
    ]);
    expect(many.contentType).toBe('application/json');
    expect(JSON.parse(new TextDecoder().decode(many.body))).toEqual({ j: { n: 1 }, t: 'plain words', b: '//4A' });
  });

  it("registers nodes with the spec's properties first, the archive's model-config.yaml next, TorchServe's defaults last", () => {
    const spec = parse('models:\n  batch-size: 4\n  m: {url: m.mar, min-workers: 2}\ndag:\n  m: [f]\n', { exports: ['f'] });
    expect(nodeOverrides(spec, 'm', { maxBatchDelay: 7, maxWorkers: 3 }, {})).toEqual({
      minWorkers: 2,
      maxWorkers: undefined,
      batchSize: 4,
      maxBatchDelayMs: undefined,
      responseTimeoutMs: undefined,
      startupTimeoutMs: undefined,
    });
    expect(nodeOverrides(spec, 'f', {}, { startupTimeoutMs: 5000 })).toMatchObject({ minWorkers: 1, maxWorkers: 1, batchSize: 4, maxBatchDelayMs: 50, startupTimeoutMs: 5000 });
  });
});
