import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { PredictionError } from './errors.js';
import { ORT_TYPE_BY_DATATYPE } from './tensor-codec.js';
import { runStacked } from './tensor-batch.js';
import type { ModelMetadata } from '@model-server/protocol';

/** One tensor request: its feeds by input name and the outputs it asked for (undefined = all). */
export interface TensorJob {
  feeds: Record<string, Tensor>;
  outputs: readonly string[] | undefined;
}

/** Per request: the fetched outputs it asked for, or the error that is its answer. */
export type TensorJobResult = { outputs: Record<string, Tensor> } | { error: PredictionError };

/** Checks one request against the model's signature, so a bad request fails alone, with 400. */
function validate(job: TensorJob, metadata: ModelMetadata, session: InferenceSession): PredictionError | undefined {
  const known = new Map(metadata.inputs.map((m) => [m.name, m]));
  for (const [name, tensor] of Object.entries(job.feeds)) {
    const meta = known.get(name);
    if (!meta) return new PredictionError(`unknown input '${name}'; the model's inputs are: ${session.inputNames.join(', ')}`, 400);
    const expected = ORT_TYPE_BY_DATATYPE[meta.datatype as keyof typeof ORT_TYPE_BY_DATATYPE];
    if (tensor.type !== expected) {
      return new PredictionError(`input '${name}' must be ${meta.datatype}, got ${tensor.type}`, 400);
    }
    const dims = tensor.dims;
    if (dims.length !== meta.shape.length || meta.shape.some((d, i) => d !== -1 && d !== dims[i])) {
      return new PredictionError(`input '${name}' has shape [${dims.join(',')}] where the model takes [${meta.shape.join(',')}]`, 400);
    }
  }
  const missing = session.inputNames.filter((n) => !Object.hasOwn(job.feeds, n));
  if (missing.length > 0) return new PredictionError(`missing input(s): ${missing.join(', ')}`, 400);
  const unknownOut = (job.outputs ?? []).filter((n) => !session.outputNames.includes(n));
  if (unknownOut.length > 0) {
    return new PredictionError(`unknown output(s): ${unknownOut.join(', ')}; the model's outputs are: ${session.outputNames.join(', ')}`, 400);
  }
  return undefined;
}

/** Requests whose tensors can be stacked share this key: same inputs, types and non-batch dimensions. */
function stackKey(feeds: Record<string, Tensor>): string {
  return Object.keys(feeds)
    .sort()
    .map((n) => `${n}:${feeds[n]!.type}:${feeds[n]!.dims.slice(1).join('x')}:${feeds[n]!.dims.length}`)
    .join('|');
}

function pickOutputs(fetched: Record<string, Tensor>, wanted: readonly string[] | undefined): Record<string, Tensor> {
  if (!wanted) return fetched;
  return Object.fromEntries(wanted.map((n) => [n, fetched[n]!]));
}

function fetchNames(jobs: readonly TensorJob[], session: InferenceSession): readonly string[] {
  if (jobs.some((j) => !j.outputs)) return session.outputNames;
  return [...new Set(jobs.flatMap((j) => j.outputs!))];
}

async function runOne(session: InferenceSession, job: TensorJob): Promise<TensorJobResult> {
  try {
    const fetched = await session.run(job.feeds, [...(job.outputs ?? session.outputNames)]);
    return { outputs: pickOutputs(fetched, job.outputs) };
  } catch (err) {
    return { error: err instanceof PredictionError ? err : new PredictionError((err as Error).message, 500) };
  }
}

/** Runs a group of tensor requests as one stacked session run (undefined when it cannot be stacked). */
async function runGroupStacked(session: InferenceSession, jobs: readonly TensorJob[]): Promise<TensorJobResult[] | undefined> {
  const outputs = await runStacked(
    session,
    jobs.map((j) => j.feeds),
    [...fetchNames(jobs, session)],
  );
  return outputs?.map((o, i) => ({ outputs: pickOutputs(o, jobs[i]!.outputs) }));
}

/** The answers by request, and how many session runs produced them (stacked batches, single requests). */
export interface TensorRunReport {
  results: TensorJobResult[];
  runs: { stacked: number; single: number };
}

/**
 * Runs tensor requests through a session. Requests that agree on inputs, types and every dimension
 * but the first are stacked along dimension 0 into one run when the model's batch dimension is
 * dynamic (`batchable`); the others run one by one. A request that does not fit the model's signature
 * gets its own 400 and never fails the rest of the batch; a failed stacked run is retried request by
 * request for the same reason.
 */
export async function runTensorJobs(
  session: InferenceSession,
  metadata: ModelMetadata,
  batchable: boolean,
  jobs: readonly TensorJob[],
): Promise<TensorRunReport> {
  const results: TensorJobResult[] = new Array(jobs.length);
  const runs = { stacked: 0, single: 0 };
  const groups = new Map<string, number[]>();
  jobs.forEach((job, i) => {
    const error = validate(job, metadata, session);
    if (error) {
      results[i] = { error };
      return;
    }
    const key = batchable ? stackKey(job.feeds) : `single-${i}`;
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  for (const members of groups.values()) {
    const group = members.map((i) => jobs[i]!);
    let stacked: TensorJobResult[] | undefined;
    if (group.length > 1) stacked = await runGroupStacked(session, group).catch(() => undefined);
    if (stacked) {
      runs.stacked++;
      stacked.forEach((r, k) => (results[members[k]!] = r));
    } else {
      for (const i of members) {
        runs.single++;
        results[i] = await runOne(session, jobs[i]!);
      }
    }
  }
  return { results, runs };
}
