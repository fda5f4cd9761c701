import { cpus, loadavg, totalmem, type as osType, release } from 'node:os';
import { createRequire } from 'node:module';

export interface Machine {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  os: string;
  node: string;
  onnxruntime: string;
  /** 1-minute load average when the run started and ended: a busy shared machine shows here. */
  loadAverage: { start: number; end?: number };
}

export function describeMachine(): Machine {
  const require = createRequire(import.meta.url);
  let onnxruntime = 'unknown';
  try {
    onnxruntime = (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    // Not resolvable from here (exports map); the figure is informative only.
  }
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpus: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
    onnxruntime,
    loadAverage: { start: loadavg()[0]! },
  };
}

export function currentLoad(): number {
  return loadavg()[0]!;
}
