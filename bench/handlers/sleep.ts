/**
 * Replica handler: each request takes the time its JSON body names (`{"ms": 20}`) without using the
 * CPU, like a model whose work happens elsewhere (an accelerator, a remote call). Drain and failover
 * runs use it so that a replica holds running and queued requests when it is signalled, whatever the
 * machine's speed.
 */
import type { HandlerRequest } from '@model-server/sdk';

const DEFAULT_MS = 20;

export async function handle(data: HandlerRequest[]): Promise<string[]> {
  const ms = data.map((r) => {
    try {
      return Number(r.json<{ ms?: number }>().ms ?? DEFAULT_MS);
    } catch {
      return DEFAULT_MS;
    }
  });
  await new Promise((resolve) => setTimeout(resolve, Math.max(...ms)));
  return data.map(() => 'ok');
}
