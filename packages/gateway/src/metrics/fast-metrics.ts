import type { Metric, Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

interface Value {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** What prom-client's Registry reads from a metric when it renders the exposition. */
interface MetricData {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  values: Value[];
}

function key(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
}

/** A counter or gauge series bound to its labels: updating it is a field write, nothing more. */
export class FastSeries {
  value = 0;
  constructor(readonly labels: Labels) {}

  inc(by = 1): void {
    this.value += by;
  }

  set(value: number): void {
    this.value = value;
  }
}

/** A histogram series bound to its labels: an observation is a bucket search and three additions. */
export class FastHistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    if (i < b.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * Metric families for the request path. prom-client's label children hash their label object on every
 * `inc`/`observe` (about a microsecond each); these keep one plain object per series, so the path pays
 * a field update. They plug into a prom-client Registry (which renders them) through its `get()` contract.
 */
abstract class FastFamily<S extends { labels: Labels }> {
  readonly aggregator = 'sum' as const;
  protected readonly series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  protected abstract create(labels: Labels): S;

  /** The series for these labels, created on first use. Bind once; do not call per request. */
  child(labels: Labels): S {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) {
      s = this.create(labels);
      this.series.set(k, s);
    }
    return s;
  }

  remove(labels: Labels): void {
    this.series.delete(key(labels));
  }

  /** Every series as it is, for a reader that wants raw values without rendering them (the status sampler). */
  all(): IterableIterator<S> {
    return this.series.values();
  }

  reset(): void {
    this.series.clear();
  }

  protected abstract values(): Value[];

  /** Called by the Registry when rendering. */
  get(): Promise<MetricData> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() });
  }

  abstract readonly type: MetricData['type'];
}

/** A counter (`kind` counter) or gauge family of FastSeries. */
export class FastValueFamily extends FastFamily<FastSeries> {
  constructor(
    name: string,
    help: string,
    registry: Registry,
    readonly type: 'counter' | 'gauge',
  ) {
    super(name, help, registry);
  }

  protected create(labels: Labels): FastSeries {
    return new FastSeries(labels);
  }

  protected values(): Value[] {
    return [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value }));
  }
}

/** A histogram family of FastHistogramSeries, rendered as Prometheus' cumulative `_bucket`, `_sum`, `_count`. */
export class FastHistogramFamily extends FastFamily<FastHistogramSeries> {
  readonly type = 'histogram' as const;
  /** The buckets' upper bounds, ascending (+Inf is implicit). */
  readonly bounds: readonly number[];

  constructor(name: string, help: string, registry: Registry, buckets: readonly number[]) {
    super(name, help, registry);
    this.bounds = [...buckets].sort((a, b) => a - b);
  }

  protected create(labels: Labels): FastHistogramSeries {
    return new FastHistogramSeries(labels, this.bounds);
  }

  protected values(): Value[] {
    const out: Value[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        out.push({ labels: { ...s.labels, le: String(le) }, value: acc, metricName: `${this.name}_bucket` });
      });
      out.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      out.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      out.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}
