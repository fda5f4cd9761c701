import type { StatusSummary } from '@model-server/gateway';

const MB = 1024 * 1024;

function num(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  if (x === 0) return '0';
  return Math.abs(x) >= 1000 ? Math.round(x).toString() : Number(x.toPrecision(3)).toString();
}

function ms(x: number | null): string {
  return x === null ? '-' : `${num(x)} ms`;
}

function uptime(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function formatTable(header: string[], rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const HEADER = ['MODEL', 'VERSION', 'STATE', 'WORKERS', 'QUEUE', 'IN FLIGHT', 'REQ/S', 'P50', 'P99', 'BATCH', 'REQUESTS', 'ERRORS'];
const RIGHT = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11]);
const ERRORS_SHOWN = 5;

/**
 * `model-server status` as text: the server line, one row per model version (the default one
 * starred), then the last errors. The figures are the summary's, as the status page shows them.
 */
export function renderStatus(s: StatusSummary): string {
  const srv = s.server;
  const lines = [
    `model-server ${srv.version}, pid ${srv.pid}, up ${uptime(srv.uptimeS)}; token authorization ${srv.tokenAuthorization ? 'on' : 'off'}; ` +
      `memory ${num(srv.memory.rssBytes / MB)} MB` +
      (srv.eventLoopDelayMs ? `; event loop p99 ${ms(srv.eventLoopDelayMs.p99)}` : ''),
    `  inference ${srv.addresses.inference}  management ${srv.addresses.management}  metrics ${srv.addresses.metrics}`,
    `  page: ${srv.addresses.management}/dashboard/`,
    '',
  ];
  const rows = s.models.flatMap((m) =>
    m.versions.map((v) => [
      m.name,
      `${v.version}${v.isDefault ? '*' : ''}`,
      v.state,
      `${v.liveWorkers}/${v.targetWorkers}`,
      `${v.queue.depth}/${v.queue.limit}`,
      String(v.inFlight),
      num(v.rps),
      ms(v.latencyMs.p50),
      ms(v.latencyMs.p99),
      num(v.batch.mean),
      String(v.totals.requests),
      String(Object.values(v.errorsByCode).reduce((a, b) => a + b, 0)),
    ]),
  );
  lines.push(rows.length > 0 ? formatTable(HEADER, rows, RIGHT) : 'No model is registered.');
  lines.push(`(* default version; req/s over ${s.windows.rateS} s, latency and batch over ${s.windows.latencyS} s)`);
  if (s.errors.length > 0) {
    lines.push('', 'Last errors:');
    for (const e of s.errors.slice(0, ERRORS_SHOWN)) {
      const time = new Date(e.time).toISOString().slice(11, 19);
      const message = e.message.replace(/\s+/g, ' ');
      lines.push(`  ${time}  ${e.model}/${e.version}  ${e.requestId}  ${e.status} ${e.code}  ${message.length > 100 ? `${message.slice(0, 100)}…` : message}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
