import { CpuMeter } from './cpu.js';
import { Child } from './ipc.js';
import type { LoadConfig } from './loads/load-config.js';
import { script } from './paths.js';
import type { ReadyMessage } from './targets/target-messages.js';
import type { Measurement } from './windows.js';

const START_TIMEOUT_MS = 120_000;

/** The load generator script of each kind of load. */
const LOAD_SCRIPTS: Record<LoadConfig['kind'], string> = {
  http: 'loads/http-load',
  stream: 'loads/stream-load',
  grpc: 'loads/grpc-load',
  limit: 'loads/limit-load',
  sequence: 'loads/sequence-load',
  'vad-limit': 'loads/vad-limit-load',
  pipeline: 'loads/pipeline-load',
};

/** A server under test (ours or a baseline), running in its own process. */
export interface Server {
  child: Child;
  url: string;
  /** `host:port` of its gRPC listener, for our gateway. */
  grpc?: string | undefined;
  management?: string | undefined;
}

/** Forks a target script (`targets/...`) and waits until it listens. */
export async function startServer(
  name: string,
  file: string,
  config: unknown,
  options: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {},
): Promise<Server> {
  const child = Child.fork(name, script(file), options);
  try {
    const ready = await child.request<ReadyMessage>({ type: 'start', config } as never, 'ready', START_TIMEOUT_MS);
    return { child, url: ready.url, grpc: ready.grpc, management: ready.management };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

export interface MeasureResult {
  measurement: Measurement;
  /** CPU microseconds per completed request, by the labels of `metered` plus `client`. */
  cpuUsPerRequest: Record<string, number>;
}

/**
 * Runs one load child to completion. `metered` names the server processes whose CPU time is read
 * around the run; the load generator itself is metered as `client`.
 */
export async function measure(config: LoadConfig, metered: Record<string, number> = {}): Promise<MeasureResult> {
  const file = LOAD_SCRIPTS[config.kind];
  const child = Child.fork(`${config.kind} load`, script(file));
  const { plan } = config;
  const timeout = plan.warmupMs + plan.maxWindows * plan.windowMs + 60_000;
  const meter = new CpuMeter();
  try {
    meter.start({ ...metered, client: child.pid });
    const { measurement } = await child.request<{ type: 'result'; measurement: Measurement }>({ type: 'run', config } as never, 'result', timeout);
    const cpuUsPerRequest: Record<string, number> = {};
    for (const [label, used] of Object.entries(meter.stop())) {
      if (measurement.totalCompleted > 0) cpuUsPerRequest[label] = Math.round((used * 1000) / measurement.totalCompleted);
    }
    return { measurement, cpuUsPerRequest };
  } finally {
    await child.stop();
  }
}
