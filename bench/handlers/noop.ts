/**
 * Bench handler (a): answers `ok` to every request without looking at it, so a run measures nothing
 * but serving overhead (HTTP, queue, batching, IPC to the worker and back).
 */
import type { HandlerRequest } from '@model-server/sdk';

export function handle(data: HandlerRequest[]): string[] {
  return data.map(() => 'ok');
}
