import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterQuery, KUBERNETES_DIR, parseAdapterRules, type AdapterRule } from './helpers/manifests.js';
import { buildModel, tempDir } from './helpers/models.js';
import { startPrometheus, type TestPrometheus } from './helpers/prometheus.js';
import { startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

/**
 * The autoscalers' signal, shown with a real Prometheus: the prometheus-adapter rule's own query (as the
 * adapter fills it in for one pod) over a real server's metrics, during a load ramp of closed-loop
 * clients. Each client keeps one request in flight, so the signal must follow the client count.
 */

/** Handler time per request: long enough that requests pile up behind the one worker. */
const HANDLER_MS = 100;
/** Scrape labels a Kubernetes scrape would add; the adapter selects the pod by them. */
const POD = { namespace: 'model-server', pod: 'model-server-0' };
const RAMP = [2, 6, 0];
/** Bound on the whole ramp: every client stops by then whatever happens. */
const RAMP_LIMIT_MS = 60_000;

let server: TestServer;
let prometheus: TestPrometheus | undefined;
let rules: AdapterRule[];

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nmaxWorkers: 1\nbatchSize: 1\n' });
  server = await startServer({ store, models: ['probe.mar'] });
  prometheus = await startPrometheus(new URL(server.metrics).host, POD);
  rules = parseAdapterRules(await readFile(join(KUBERNETES_DIR, 'prometheus-adapter', 'config.yaml'), 'utf8'));
});
afterAll(async () => {
  await prometheus?.stop();
  await server?.stop();
});

/** Runs `clients` closed-loop clients until `stop()`; counts the answers and fails on any error status. */
function load(clients: number, deadline: number) {
  let running = true;
  let answered = 0;
  const failures: number[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (running && performance.now() < deadline) {
      const res = await fetch(`${server.url}/predictions/probe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ op: 'sleep', ms: HANDLER_MS }) });
      await res.arrayBuffer();
      if (res.status === 200) answered++;
      else failures.push(res.status);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { answered, failures };
    },
  };
}

describe('the autoscaling signal through a real Prometheus', () => {
  it('requests in flight per pod follows the offered load up and back down; queue depth follows the backlog', async () => {
    const query = (name: string) => adapterQuery(rules.find((r) => r.name.as === name)!, `namespace="${POD.namespace}",pod="${POD.pod}"`, 'namespace, pod');
    const inFlight = query('model_server_requests_in_flight');
    const queued = query('model_server_queue_depth');
    const read = async (promql: string) => {
      const r = await prometheus!.query(promql);
      expect(r.status).toBe('success');
      expect(r.data.result.length).toBeLessThanOrEqual(1);
      return r.data.result[0] ? Number(r.data.result[0].value[1]) : undefined;
    };
    await waitFor(async () => (await read(inFlight)) === 0, 30_000, 'Prometheus to see the idle pod');

    const deadline = performance.now() + RAMP_LIMIT_MS;
    const seen: { clients: number; inFlight: number; queued: number }[] = [];
    for (const clients of RAMP) {
      const running = load(clients, deadline);
      // Between two of a client's requests there is a moment with one fewer in flight.
      let last = -1;
      await waitFor(
        async () => {
          last = (await read(inFlight)) ?? -1;
          return last >= Math.max(0, clients - 1) && last <= clients;
        },
        20_000,
        `in flight to reach ${clients} (last ${last})`,
      );
      seen.push({ clients, inFlight: last, queued: (await read(queued)) ?? -1 });
      const { answered, failures } = await running.stop();
      expect(failures).toEqual([]);
      if (clients > 0) expect(answered).toBeGreaterThan(0);
    }
    // One worker runs one request at a time: the others wait in the queue (one more may be between requests).
    expect(seen.map((s) => s.clients)).toEqual(RAMP);
    for (const s of seen.slice(0, 2)) expect(s.queued, `${s.clients} clients`).toBeGreaterThanOrEqual(s.inFlight - 2);
    for (const s of seen.slice(0, 2)) expect(s.queued, `${s.clients} clients`).toBeLessThan(s.inFlight);
    expect(seen[2]).toEqual({ clients: 0, inFlight: 0, queued: 0 });
    console.log(`autoscaling signal (clients -> requests in flight, queue depth): ${seen.map((s) => `${s.clients} -> ${s.inFlight}, ${s.queued}`).join('; ')}`);
  });
});
