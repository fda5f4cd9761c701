import type { SuiteResult } from '../results.js';
import type { ServerId, WorkloadId } from '../suite.js';
import { findPoint, floorBound, limitFor, mb, ms, rate, ratio } from './lookup.js';

const SERVER_NAMES: Record<ServerId, string> = {
  ours: 'ours',
  'ours-grpc': 'ours, gRPC',
  'bare-grpc-js': 'bare grpc-js',
  'bare-h2': 'bare node:http2 gRPC',
  'bare-http': 'bare node:http',
  express: 'express + ORT',
  'node-batched': 'one node:http process + ORT, batched',
  'in-process': 'the same OCR pipeline in one process (no HTTP)',
};

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function verdict(pass: boolean | null, stable: boolean): string {
  const base = pass === null ? 'not run' : pass ? 'met' : '**missed**';
  return stable || pass === null ? base : `${base} (unstable)`;
}

/** The targets with their measured values: the part docs/benchmarks.md quotes. */
export function targetsTable(r: SuiteResult): string {
  return table(
    ['Target', 'Goal', 'Measured', 'Result'],
    r.checks.map((c) => [c.target, c.goal, c.measured, verdict(c.pass, c.stable)]),
  );
}

/**
 * Our gateway through gRPC against itself through HTTP, level by level: throughput, latency, and the
 * gateway's CPU time per request, the figure the gRPC path is held to (no more than HTTP's).
 */
export function grpcTable(r: Pick<SuiteResult, 'points'>): string {
  const rows: string[][] = [];
  for (const p of r.points.filter((x) => x.server === 'ours-grpc')) {
    const http = findPoint(r, p.workload, 'ours', p.concurrency);
    if (!http) continue;
    const g = p.measurement;
    const h = http.measurement;
    const cpuGrpc = p.cpuUsPerRequest['gateway'];
    const cpuHttp = http.cpuUsPerRequest['gateway'];
    rows.push([
      p.workload,
      String(p.concurrency),
      `${rate(g.throughput)} / ${rate(h.throughput)}`,
      ratio(g.throughput / h.throughput),
      ratio(g.latency.p50 / h.latency.p50),
      ratio(g.latency.p99 / h.latency.p99),
      cpuGrpc !== undefined && cpuHttp !== undefined ? `${cpuGrpc} / ${cpuHttp}` : '',
      cpuGrpc !== undefined && cpuHttp !== undefined ? ratio(cpuGrpc / cpuHttp) : '',
      `${p.cpuUsPerRequest['client'] ?? ''} / ${http.cpuUsPerRequest['client'] ?? ''}`,
    ]);
  }
  return table(['Workload', 'Concurrency', 'req/s gRPC / HTTP', 'Throughput gRPC/HTTP', 'p50 gRPC/HTTP', 'p99 gRPC/HTTP', 'Gateway CPU µs/req gRPC / HTTP', 'Gateway CPU gRPC/HTTP', 'Client CPU µs/req gRPC / HTTP'], rows);
}

/**
 * The transports' own floors, CPU per request of a server that answers a constant: node:http, grpc-js,
 * and a minimal gRPC server on node:http2. What our gateway adds on top is its own work either way.
 */
export function transportFloorsTable(r: Pick<SuiteResult, 'points'>): string {
  const rows: string[][] = [];
  const levels = [...new Set(r.points.filter((p) => p.server === 'bare-h2' || p.server === 'bare-grpc-js').map((p) => p.concurrency))].sort((a, b) => a - b);
  for (const c of levels) {
    const cpu = (server: ServerId, label: string): number | undefined => findPoint(r, 'noop', server, c)?.cpuUsPerRequest[label];
    const http = cpu('bare-http', 'server');
    const grpcJs = cpu('bare-grpc-js', 'server');
    const h2 = cpu('bare-h2', 'server');
    const ours = cpu('ours', 'gateway');
    const oursGrpc = cpu('ours-grpc', 'gateway');
    const show = (v: number | undefined): string => (v === undefined ? '' : String(v));
    const over = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '' : String(a - b));
    rows.push([String(c), show(http), show(grpcJs), show(h2), http && grpcJs ? ratio(grpcJs / http) : '', http && h2 ? ratio(h2 / http) : '', over(ours, http), over(oursGrpc, grpcJs)]);
  }
  return table(
    ['Concurrency', 'bare node:http µs/req', 'bare grpc-js', 'bare node:http2 gRPC', 'grpc-js / node:http', 'node:http2 / node:http', 'ours HTTP above its floor', 'ours gRPC above its floor'],
    rows,
  );
}

/** ours / each baseline, level by level. */
export function ratiosTable(r: SuiteResult): string {
  const rows: string[][] = [];
  const workloads = [...new Set(r.points.map((p) => p.workload))];
  for (const w of workloads) {
    const levels = [...new Set(r.points.filter((p) => p.workload === w).map((p) => p.concurrency))].sort((a, b) => a - b);
    for (const c of levels) {
      const ours = findPoint(r, w, 'ours', c);
      if (!ours) continue;
      const o = ours.measurement;
      for (const server of ['bare-http', 'express', 'node-batched', 'in-process'] as const) {
        const base = findPoint(r, w, server, c);
        if (!base) continue;
        const b = base.measurement;
        const ttfc = o.ttfc && b.ttfc ? ratio(o.ttfc.p50 / b.ttfc.p50) : '';
        const units = w === 'stream' ? ratio(o.unitsPerSec / b.unitsPerSec) : ratio(o.throughput / b.throughput);
        rows.push([w, String(c), SERVER_NAMES[server], units, ratio(o.latency.p50 / b.latency.p50), ratio(o.latency.p99 / b.latency.p99), ttfc]);
      }
      // The limit is a throughput ceiling: only the busiest level is worth comparing with it.
      const limit = c === levels[levels.length - 1] ? limitFor(r, w, c) : undefined;
      if (limit) {
        rows.push([w, String(c), `limit, ${limit.variant}, batch ${limit.batchSize}`, ratio(o.throughput / limit.measurement.unitsPerSec), '', '', '']);
      }
      const bound = limit ? floorBound(r, w, c) : undefined;
      if (bound !== undefined) rows.push([w, String(c), `bound: model + HTTP floor on ${r.machine.cpus} cores (${rate(bound)}/s)`, ratio(o.throughput / bound), '', '', '']);
    }
  }
  return table(['Workload', 'Concurrency', 'Baseline', 'Throughput ours/base', 'p50 ours/base', 'p99 ours/base', 'TTFC p50 ours/base'], rows);
}

function measurementsTable(r: SuiteResult, w: WorkloadId): string {
  const stream = w === 'stream';
  const rows = r.points
    .filter((p) => p.workload === w)
    .sort((a, b) => a.concurrency - b.concurrency || a.server.localeCompare(b.server))
    .map((p) => {
      const m = p.measurement;
      const cells = [String(p.concurrency), SERVER_NAMES[p.server], rate(m.throughput), ms(m.latency.p50), ms(m.latency.p90), ms(m.latency.p99)];
      if (stream) cells.push(rate(m.unitsPerSec), m.ttfc ? ms(m.ttfc.p50) : '', m.ttfc ? ms(m.ttfc.p99) : '');
      const cpu = Object.entries(p.cpuUsPerRequest ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
      const nodes = p.nodeBatchSizes ? Object.entries(p.nodeBatchSizes).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ') : '';
      cells.push(p.meanBatchSize !== undefined ? p.meanBatchSize.toFixed(1) : nodes, cpu, m.stable ? 'yes' : `no (${m.windows.length} windows)`, String(m.errors));
      return cells;
    });
  const head = ['Concurrency', 'Server', 'req/s', 'p50', 'p90', 'p99'];
  if (stream) head.push('chunks/s', 'TTFC p50', 'TTFC p99');
  head.push('Mean batch', 'CPU µs/request', 'Stable', 'Errors');
  return table(head, rows);
}

function limitsTable(r: SuiteResult): string {
  return table(
    ['Workload', 'Variant', 'Batch', 'Inferences/s', 'Run p50', 'Run p99', 'Stable'],
    r.limits.map((l) => [
      l.workload,
      l.variant,
      String(l.batchSize),
      rate(l.measurement.unitsPerSec),
      ms(l.measurement.latency.p50),
      ms(l.measurement.latency.p99),
      l.measurement.stable ? 'yes' : 'no',
    ]),
  );
}

function memoryTable(r: SuiteResult): string {
  return table(
    ['Process', 'Peak RSS (VmHWM)', 'Max sampled RSS', 'Max private (RssAnon)', 'Ceiling'],
    r.memory.map((m) => [m.label, mb(m.peakBytes), mb(m.maxSampledBytes), mb(m.maxPrivateBytes), m.limitBytes !== undefined ? mb(m.limitBytes) : '']),
  );
}

export function machineLine(r: SuiteResult): string {
  const m = r.machine;
  const load = `load average ${m.loadAverage.start.toFixed(2)} at start, ${m.loadAverage.end?.toFixed(2) ?? '?'} at end`;
  return `${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, onnxruntime-node ${m.onnxruntime}; ${load}`;
}

function settingsLine(r: SuiteResult): string {
  const models = Object.entries(r.models)
    .filter(([id]) => r.points.some((p) => p.workload === id))
    .map(([id, s]) =>
      id === 'ocr'
        ? 'ocr the workflow as it ships (one worker per node, det batchSize 2, crop 1, rec 8, max-batch-delay 0) against the same pipeline in one process'
        : `${id} ${s.workers} worker${s.workers === 1 ? '' : 's'}, batchSize ${s.batchSize}, maxBatchDelay ${s.maxBatchDelay} ms`,
    )
    .join('; ');
  const list = (args: string[] | undefined): string => (args === undefined ? 'Node\'s defaults' : args.length > 0 ? `\`${args.join(' ')}\`` : 'no flags');
  const flags =
    `Gateway flags: ${list(r.vmargs)}; worker flags: ${list(r.workerVmargs)}` +
    (r.gatewayNodeOptions ? `; NODE_OPTIONS="${r.gatewayNodeOptions}" (inherited by the workers).` : '.') +
    (r.dashboard ? ` A status page's feed was open throughout (${r.dashboard.events} events, ${Math.round(r.dashboard.bytes / 1024)} KB).` : '');
  const p = r.plan;
  const ocr = r.points.some((pt) => pt.workload === 'ocr') && r.ocrPlan ? ` OCR: warm-up ${r.ocrPlan.warmupMs} ms, windows of ${r.ocrPlan.windowMs} ms.` : '';
  return (
    `Closed loop (N requests in flight).${ocr} Warm-up ${p.warmupMs} ms, windows of ${p.windowMs} ms until the last ${p.stableWindows} ` +
    `agree within ${p.stabilityPct}% (throughput and p50) or ${p.maxWindows} windows; figures merge the last ${p.stableWindows} windows. ` +
    `One intra-op thread everywhere. Models: ${models}. Streams: ${r.streamChunks} lines per response. ` +
    (r.vadChunkMs !== undefined ? `VAD: each client streams its own sequence, a request is one ${r.vadChunkMs} ms chunk. ` : '') +
    flags
  );
}

/** The whole report of one run. */
export function renderMarkdown(r: SuiteResult): string {
  const parts = [
    `# Benchmark run ${r.startedAt} (${r.mode}, ${r.durationS} s)`,
    '',
    `Machine: ${machineLine(r)}.`,
    '',
    settingsLine(r),
    '',
    '## Targets',
    '',
    targetsTable(r),
    '',
    '## Ratios (ours / baseline, same run)',
    '',
    ratiosTable(r),
    '',
    ...(r.points.some((p) => p.server === 'ours-grpc') ? ['## gRPC against HTTP (our gateway, same run)', '', grpcTable(r), ''] : []),
    ...(r.points.some((p) => p.server === 'bare-h2') ? ['## Transport floors (no-op, CPU µs per request)', '', transportFloorsTable(r), ''] : []),
    '## Measurements',
  ];
  for (const w of [...new Set(r.points.map((p) => p.workload))]) parts.push('', `### ${w}`, '', measurementsTable(r, w));
  if (r.limits.length > 0) parts.push('', '### In-process limit (onnxruntime-node, no HTTP)', '', limitsTable(r));
  parts.push('', '## Resident memory', '', memoryTable(r), '');
  return parts.join('\n');
}
