import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createArchive } from '@model-server/model-archiver';
import { REPO_ROOT } from '../paths.js';
import { startNginx, type Balancer, type BalancerOptions } from './nginx.js';
import { freePort, startReplica, type Replica } from './replica.js';

/** The archives every replica serves, and a request body for each. */
export interface Fixture {
  dir: string;
  store: string;
  /** `--models` specs. */
  models: { sleep: string; mnist: string };
  /** A real digit for mnist. */
  digit: Uint8Array;
  cleanup(): Promise<void>;
}

/** A batch of the sleep model takes as long as its longest request; four at a time per worker. */
const SLEEP_CONFIG = 'minWorkers: 1\nmaxWorkers: 1\nbatchSize: 4\nmaxBatchDelay: 0\nresponseTimeout: 60\n';

/** Builds the archives once for a run: `sleep` (bench/handlers/sleep.ts) and the mnist example as shipped. */
export async function prepareFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'ms-replicas-'));
  const store = join(dir, 'store');
  const sleepConfig = join(dir, 'sleep-config.yaml');
  await writeFile(sleepConfig, SLEEP_CONFIG);
  const mnist = join(REPO_ROOT, 'examples', 'mnist');
  await createArchive({ modelName: 'sleep', version: '1.0', handler: join(REPO_ROOT, 'bench', 'handlers', 'sleep.ts'), configFile: sleepConfig, exportPath: store, force: true });
  await createArchive({
    modelName: 'mnist',
    version: '1.0',
    handler: join(mnist, 'handler.ts'),
    serializedFile: join(mnist, 'mnist.onnx'),
    configFile: join(mnist, 'model-config.yaml'),
    exportPath: store,
    force: true,
  });
  return {
    dir,
    store,
    models: { sleep: 'sleep=sleep.mar', mnist: 'mnist=mnist.mar' },
    digit: await readFile(join(mnist, 'samples', 'digit-7.png')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Replicas behind one nginx: site `all` spreads over every replica, site `one` sends to the first only. */
export interface Cluster {
  readonly replicas: readonly Replica[];
  readonly nginx: Balancer;
  /** Starts replica `i` again on its port (after it exited), with the same models and config. */
  restart(i: number): Promise<Replica>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  count: number;
  models: string[];
  properties?: Record<string, string | number | boolean>;
  balancer?: BalancerOptions;
}

export async function startCluster(fixture: Fixture, options: ClusterOptions): Promise<Cluster> {
  const ports: number[] = [];
  while (ports.length < options.count + 2) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const [allPort, onePort, ...replicaPorts] = ports as [number, number, ...number[]];
  const launch = (i: number): Promise<Replica> =>
    startReplica({ dir: join(fixture.dir, `replica-${i}`), store: fixture.store, models: options.models, port: replicaPorts[i]!, properties: options.properties });
  const replicas: Replica[] = [];
  const started = await Promise.allSettled(replicaPorts.map((_p, i) => launch(i)));
  for (const s of started) if (s.status === 'fulfilled') replicas.push(s.value);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(replicas.map((r) => r.stop()));
    throw failed.reason;
  }
  let nginx: Balancer;
  try {
    nginx = await startNginx(join(fixture.dir, 'nginx'), [
      { name: 'all', port: allPort, upstreams: replicaPorts },
      { name: 'one', port: onePort, upstreams: [replicaPorts[0]!] },
    ], options.balancer);
  } catch (err) {
    await Promise.all(replicas.map((r) => r.stop()));
    throw err;
  }
  return {
    replicas,
    nginx,
    async restart(i) {
      if (replicas[i]!.alive) throw new Error(`replica ${i} still runs`);
      replicas[i] = await launch(i);
      return replicas[i];
    },
    async stop() {
      await Promise.all(replicas.map((r) => r.stop()));
      await nginx.stop();
    },
  };
}
