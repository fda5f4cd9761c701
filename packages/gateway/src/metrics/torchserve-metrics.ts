import { Gauge, type Registry } from 'prom-client';
import { FastValueFamily } from './fast-metrics.js';

/**
 * TorchServe's metric families under TorchServe's own names and labels, for dashboards built on
 * TorchServe (`metrics_mode=prometheus` or `legacy`, as in its config.properties). Their names break
 * Prometheus' naming rules (camelCase, `_microseconds`, counters without `_total`), which is why they
 * are opt-in: `promtool check metrics` rejects them. docs/metrics.md lists each one.
 */
export class TorchServeMetrics {
  readonly latency: FastValueFamily;
  readonly queueLatency: FastValueFamily;
  /** Set only in `prometheus` mode (TorchServe's `legacy` mode exports just the ts_* counters). */
  readonly full:
    | {
        requests: Record<'2' | '4' | '5', FastValueFamily>;
        queueTime: FastValueFamily;
        workerThreadTime: FastValueFamily;
        /** Read at scrape time, so a plain prom-client gauge. */
        workerLoadTime: Gauge<string>;
        handlerTime: FastValueFamily;
        predictionTime: FastValueFamily;
      }
    | undefined;

  constructor(registry: Registry, mode: 'prometheus' | 'legacy') {
    this.latency = new FastValueFamily('ts_inference_latency_microseconds', 'Cumulative inference duration in microseconds (TorchServe name)', registry, 'counter');
    this.queueLatency = new FastValueFamily('ts_queue_latency_microseconds', 'Cumulative queuing duration in microseconds (TorchServe name)', registry, 'counter');
    if (mode !== 'prometheus') return;
    const requests = (cls: string): FastValueFamily =>
      new FastValueFamily(`Requests${cls}XX`, `Total number of requests with response in ${cls}00-${cls}99 status code range`, registry, 'counter');
    this.full = {
      requests: { '2': requests('2'), '4': requests('4'), '5': requests('5') },
      queueTime: new FastValueFamily('QueueTime', 'Time a job spent in the queue, in milliseconds (TorchServe name)', registry, 'gauge'),
      workerThreadTime: new FastValueFamily(
        'WorkerThreadTime',
        'Time spent in the gateway per batch, excluding the handler, in milliseconds (TorchServe name)',
        registry,
        'gauge',
      ),
      workerLoadTime: new Gauge({
        name: 'WorkerLoadTime',
        help: 'Time a worker took to load its model, in milliseconds (TorchServe name)',
        labelNames: ['WorkerName', 'Level', 'Hostname'],
        registers: [registry],
      }),
      handlerTime: new FastValueFamily('HandlerTime', 'Handler time per batch in milliseconds (TorchServe name)', registry, 'gauge'),
      predictionTime: new FastValueFamily('PredictionTime', 'Prediction time per batch in milliseconds (TorchServe name)', registry, 'gauge'),
    };
  }
}
