import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * TorchServe's metric families under TorchServe's own names and labels, for dashboards built on
 * TorchServe (`metrics_mode=prometheus` or `legacy`, as in its config.properties). Their names break
 * Prometheus' naming rules (camelCase, `_microseconds`, counters without `_total`), which is why they
 * are opt-in: `promtool check metrics` rejects them. docs/metrics.md lists each one.
 */
export class TorchServeMetrics {
  readonly latency: Counter<string>;
  readonly queueLatency: Counter<string>;
  /** Set only in `prometheus` mode (TorchServe's `legacy` mode exports just the ts_* counters). */
  readonly full:
    | {
        requests: Record<'2' | '4' | '5', Counter<string>>;
        queueTime: Gauge<string>;
        workerThreadTime: Gauge<string>;
        workerLoadTime: Gauge<string>;
        handlerTime: Gauge<string>;
        predictionTime: Gauge<string>;
      }
    | undefined;

  constructor(registry: Registry, mode: 'prometheus' | 'legacy') {
    const registers = [registry];
    const modelLabels = ['model_name', 'model_version', 'hostname'];
    this.latency = new Counter({
      name: 'ts_inference_latency_microseconds',
      help: 'Cumulative inference duration in microseconds (TorchServe name)',
      labelNames: modelLabels,
      registers,
    });
    this.queueLatency = new Counter({
      name: 'ts_queue_latency_microseconds',
      help: 'Cumulative queuing duration in microseconds (TorchServe name)',
      labelNames: modelLabels,
      registers,
    });
    if (mode !== 'prometheus') return;
    const host = ['Level', 'Hostname'];
    const requests = (cls: string): Counter<string> =>
      new Counter({ name: `Requests${cls}XX`, help: `Total number of requests with response in ${cls}00-${cls}99 status code range`, labelNames: host, registers });
    this.full = {
      requests: { '2': requests('2'), '4': requests('4'), '5': requests('5') },
      queueTime: new Gauge({ name: 'QueueTime', help: 'Time a job spent in the queue, in milliseconds (TorchServe name)', labelNames: host, registers }),
      workerThreadTime: new Gauge({
        name: 'WorkerThreadTime',
        help: 'Time spent in the gateway per batch, excluding the handler, in milliseconds (TorchServe name)',
        labelNames: host,
        registers,
      }),
      workerLoadTime: new Gauge({
        name: 'WorkerLoadTime',
        help: 'Time a worker took to load its model, in milliseconds (TorchServe name)',
        labelNames: ['WorkerName', ...host],
        registers,
      }),
      handlerTime: new Gauge({ name: 'HandlerTime', help: 'Handler time per batch in milliseconds (TorchServe name)', labelNames: ['ModelName', ...host], registers }),
      predictionTime: new Gauge({
        name: 'PredictionTime',
        help: 'Prediction time per batch in milliseconds (TorchServe name)',
        labelNames: ['ModelName', ...host],
        registers,
      }),
    };
  }
}
