import { Tensor, type InferenceSession } from 'onnxruntime-node';

type TypedArray = Exclude<Tensor['data'], string[]>;

/** Stacks tensors along dimension 0; every other dimension and the type must agree. */
export function concatTensors(parts: readonly Tensor[]): Tensor {
  const first = parts[0];
  if (!first) throw new RangeError('concatTensors needs at least one tensor');
  if (parts.length === 1) return first;
  const rest = first.dims.slice(1).join('x');
  let rows = 0;
  for (const t of parts) {
    if (t.type !== first.type || t.dims.slice(1).join('x') !== rest) {
      throw new TypeError(`cannot stack ${t.type}[${t.dims.join(',')}] with ${first.type}[${first.dims.join(',')}]`);
    }
    rows += t.dims[0] ?? 1;
  }
  const dims = [rows, ...first.dims.slice(1)];
  if (first.type === 'string') {
    return new Tensor('string', parts.flatMap((t) => t.data as string[]), dims);
  }
  const src = first.data as TypedArray;
  const Ctor = src.constructor as new (length: number) => TypedArray;
  const total = parts.reduce((n, t) => n + (t.data as TypedArray).length, 0);
  const data = new Ctor(total);
  let offset = 0;
  for (const t of parts) {
    const d = t.data as TypedArray;
    (data as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(d as ArrayLike<unknown>, offset);
    offset += d.length;
  }
  return new Tensor(first.type, data as never, dims);
}

/** Splits a tensor along dimension 0 into parts of the given row counts (views, no copy). */
export function splitTensor(tensor: Tensor, rows: readonly number[]): Tensor[] {
  const total = tensor.dims[0] ?? 0;
  const sum = rows.reduce((a, b) => a + b, 0);
  if (sum !== total) throw new RangeError(`cannot split ${total} rows into ${rows.join('+')}`);
  const rowSize = total === 0 ? 0 : tensor.size / total;
  const out: Tensor[] = [];
  let start = 0;
  for (const n of rows) {
    const dims = [n, ...tensor.dims.slice(1)];
    if (tensor.type === 'string') {
      out.push(new Tensor('string', (tensor.data as string[]).slice(start * rowSize, (start + n) * rowSize), dims));
    } else {
      const data = (tensor.data as TypedArray).subarray(start * rowSize, (start + n) * rowSize);
      out.push(new Tensor(tensor.type, data as never, dims));
    }
    start += n;
  }
  return out;
}

/**
 * Stacks per-request feeds along dimension 0 into one session run and splits every output back by each
 * request's rows. Returns undefined when the inputs or an output do not follow the batch dimension, so
 * the caller runs the requests one by one instead.
 */
export async function runStacked(
  session: InferenceSession,
  perRequest: readonly Record<string, Tensor>[],
  fetchNames?: readonly string[],
): Promise<Record<string, Tensor>[] | undefined> {
  const names = Object.keys(perRequest[0]!);
  const stacked: Record<string, Tensor> = {};
  for (const name of names) stacked[name] = concatTensors(perRequest.map((feeds) => feeds[name]!));
  const rows = perRequest.map((feeds) => Number(feeds[names[0]!]!.dims[0] ?? 1));
  const total = rows.reduce((a, b) => a + b, 0);
  if (!names.every((n) => Number(stacked[n]!.dims[0]) === total)) return undefined;
  const fetched = fetchNames ? await session.run(stacked, [...fetchNames]) : await session.run(stacked);
  if (!Object.values(fetched).every((t) => t.dims.length > 0 && Number(t.dims[0]) === total)) return undefined;
  const out: Record<string, Tensor>[] = perRequest.map(() => ({}));
  for (const [name, tensor] of Object.entries(fetched)) {
    splitTensor(tensor, rows).forEach((part, i) => {
      out[i]![name] = part;
    });
  }
  return out;
}
