/**
 * Our server under test: a real Gateway in its own process (as in production), so its RSS and CPU are
 * its own. Answers `pids` with the worker processes, whose RSS the orchestrator reads from /proc.
 */
import { Gateway, createLogger, loadServerConfig } from '@model-server/gateway';
import { onParentMessage, toParent, type Message } from '../ipc.js';
import type { GatewayTargetConfig, WorkerPid } from './target-messages.js';

let gateway: Gateway | undefined;

async function start(config: GatewayTargetConfig): Promise<void> {
  const serverConfig = loadServerConfig({ overrides: config.overrides });
  const workflows = config.workflows ?? [];
  gateway = await Gateway.start({ config: serverConfig, models: config.models, workflows, logger: createLogger(config.logLevel) });
  const missing = config.models.map((m) => m.split('=')[0]!).filter((name) => !gateway!.registry.find(name)?.pool.liveCount);
  if (missing.length > 0) throw new Error(`models without a live worker: ${missing.join(', ')}`);
  const absent = workflows.map((w) => w.split('=')[0]!).filter((name) => !gateway!.workflows.names().includes(name));
  if (absent.length > 0) throw new Error(`workflows not registered: ${absent.join(', ')} (${gateway.startupFailures.map((f) => f.reason).join('; ')})`);
  toParent({ type: 'ready', url: gateway.addresses.inference, grpc: gateway.addresses.grpcInference, management: gateway.addresses.management, pid: process.pid });

}

function workerPids(): WorkerPid[] {
  const out: WorkerPid[] = [];
  for (const version of gateway?.registry.all() ?? []) {
    for (const worker of version.pool.workers) {
      if (worker.pid !== undefined) out.push({ model: version.name, workerId: worker.id, pid: worker.pid });
    }
  }
  return out;
}

onParentMessage(async (msg: Message) => {
  switch (msg.type) {
    case 'start':
      await start((msg as Message & { config: GatewayTargetConfig }).config);
      return;
    case 'pids':
      toParent({ type: 'pids', workers: workerPids() });
      return;
    case 'stats': {
      const models: Record<string, { batches: number; batchedRequests: number }> = {};
      for (const v of gateway?.registry.defaults() ?? []) models[v.name] = { batches: v.statistics.executionCount, batchedRequests: v.statistics.batchedRequests };
      toParent({ type: 'stats', models });
      return;
    }
    case 'stop':
      // Workers stop through their own `stop` message, so a --cpu-prof run writes their profiles too.
      await gateway?.stop();
      process.exit(0);
  }
});
