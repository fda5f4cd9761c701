import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MetricEntry } from '@model-server/protocol';
import type { Logger } from '../logging/logger.js';

/** Metric and label names Prometheus accepts; colons are left to recording rules. */
const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Prefixes of the server's own families; a handler may not shadow them. */
const RESERVED_PREFIXES = ['ts_', 'process_', 'nodejs_'];
const MODEL_LABELS = ['model_name', 'model_version'] as const;
/** Bound on distinct handler series across all models, so a handler cannot grow memory without limit. */
export const MAX_HANDLER_SERIES = 10_000;

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

interface Family {
  kind: MetricEntry['kind'];
  metric: AnyMetric;
  /** The handler's own label names, sorted; fixed by the first record of the family. */
  labelNames: readonly string[];
}

/**
 * Metrics that handlers record through `context.metrics`. The worker ships them as protocol messages
 * after each batch; here they become prom-client families with `model_name`/`model_version` labels.
 * A counter's name gets Prometheus' `_total` suffix when it lacks one. Records that cannot be
 * exported (bad name, changed kind or label set, series limit) are dropped with one warning per name.
 */
export class HandlerMetrics {
  private readonly families = new Map<string, Family>();
  private readonly series = new Map<string, { family: Family; labels: Record<string, string> }>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly registry: Registry,
    private readonly logger: Logger,
  ) {}

  /** Applies one batch's records of a model version. */
  record(modelName: string, modelVersion: string, entries: readonly MetricEntry[]): void {
    for (const entry of entries) {
      const problem = this.apply(modelName, modelVersion, entry);
      if (problem && !this.warned.has(entry.name)) {
        this.warned.add(entry.name);
        this.logger.warn({ model: modelName, version: modelVersion, metric: entry.name }, `handler metric dropped: ${problem}`);
      }
    }
  }

  private apply(modelName: string, modelVersion: string, entry: MetricEntry): string | undefined {
    if (!NAME.test(entry.name)) return `"${entry.name}" is not a valid Prometheus metric name`;
    const name = entry.kind === 'counter' && !entry.name.endsWith('_total') ? `${entry.name}_total` : entry.name;
    if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) return `names starting with ${RESERVED_PREFIXES.join(', ')} are the server's`;
    const labelNames = Object.keys(entry.labels).sort();
    for (const l of labelNames) {
      if (!NAME.test(l) || l.startsWith('__') || (MODEL_LABELS as readonly string[]).includes(l)) return `label "${l}" is not allowed`;
    }
    let family = this.families.get(name);
    if (!family) {
      const created = this.create(name, entry, labelNames);
      if (typeof created === 'string') return created;
      family = created;
    }
    if (family.kind !== entry.kind) return `recorded as ${entry.kind} but first seen as ${family.kind}`;
    if (family.labelNames.length !== labelNames.length || family.labelNames.some((l, i) => l !== labelNames[i])) {
      return `label names [${labelNames.join(', ')}] differ from the first record's [${family.labelNames.join(', ')}]`;
    }
    const labels: Record<string, string> = { ...entry.labels, model_name: modelName, model_version: modelVersion };
    const key = `${name}\u0000${labelNames.map((l) => labels[l]).join('\u0000')}\u0000${modelName}\u0000${modelVersion}`;
    if (!this.series.has(key)) {
      if (this.series.size >= MAX_HANDLER_SERIES) return `more than ${MAX_HANDLER_SERIES} handler series`;
      this.series.set(key, { family, labels });
    }
    if (family.metric instanceof Counter) {
      if (entry.value < 0) return 'counters cannot decrease';
      family.metric.inc(labels, entry.value);
    } else if (family.metric instanceof Gauge) family.metric.set(labels, entry.value);
    else family.metric.observe(labels, entry.value);
    return undefined;
  }

  private create(name: string, entry: MetricEntry, handlerLabels: string[]): Family | string {
    if (this.registry.getSingleMetric(name)) return `"${name}" is already exported by the server`;
    const config = {
      name,
      help: entry.help ?? `Handler metric ${entry.name}, recorded through context.metrics`,
      labelNames: [...handlerLabels, ...MODEL_LABELS],
      registers: [this.registry],
    };
    let metric: AnyMetric;
    if (entry.kind === 'counter') metric = new Counter(config);
    else if (entry.kind === 'gauge') metric = new Gauge(config);
    else {
      const buckets = entry.buckets?.filter((b) => Number.isFinite(b)).sort((a, b) => a - b);
      metric = new Histogram({ ...config, ...(buckets && buckets.length > 0 ? { buckets } : {}) });
    }
    const family = { kind: entry.kind, metric, labelNames: handlerLabels };
    this.families.set(name, family);
    return family;
  }

  /** Drops every series of an unregistered model version. */
  forget(modelName: string, modelVersion: string): void {
    for (const [key, { family, labels }] of this.series) {
      if (labels['model_name'] === modelName && labels['model_version'] === modelVersion) {
        family.metric.remove(labels);
        this.series.delete(key);
      }
    }
  }
}
