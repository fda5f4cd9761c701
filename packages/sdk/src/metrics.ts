/** A metric a handler recorded; the worker ships these to the gateway, which exposes them on /metrics. */
export interface RecordedMetric {
  name: string;
  kind: 'counter' | 'gauge' | 'histogram';
  value: number;
  help?: string;
  labels: Record<string, string>;
  buckets?: number[];
}

/**
 * Handler-side metrics (`context.metrics`). Recording is cheap (an array push); the worker flushes the
 * records to the gateway after each batch, where they appear with `model_name`/`model_version` labels.
 */
export class MetricsRecorder {
  private pending: RecordedMetric[] = [];

  /** Adds `value` (default 1) to a counter. */
  counter(name: string, value = 1, labels: Record<string, string> = {}, help?: string): void {
    if (value < 0) throw new RangeError(`counter ${name} cannot decrease (got ${value})`);
    this.pending.push({ name, kind: 'counter', value, labels, ...(help ? { help } : {}) });
  }

  /** Sets a gauge to `value`. */
  gauge(name: string, value: number, labels: Record<string, string> = {}, help?: string): void {
    this.pending.push({ name, kind: 'gauge', value, labels, ...(help ? { help } : {}) });
  }

  /** Observes `value` in a histogram (buckets fixed by the first observation of this name). */
  histogram(name: string, value: number, labels: Record<string, string> = {}, buckets?: number[], help?: string): void {
    this.pending.push({ name, kind: 'histogram', value, labels, ...(buckets ? { buckets } : {}), ...(help ? { help } : {}) });
  }

  /** Takes every record made since the last drain. Called by the worker runtime. */
  drain(): RecordedMetric[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}
