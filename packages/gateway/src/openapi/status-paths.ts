import { jsonResponse, queryParam } from './parts.js';

/** The status routes in the management API's OpenAPI document (schema: status/summary-types.ts, docs/dashboard.md). */
export function statusPaths(): Record<string, unknown> {
  return {
    '/status': {
      get: {
        operationId: 'status',
        summary: 'The server at a glance: models, versions, workers, queues, rates, latency, batching, errors, recent history.',
        parameters: [queryParam('series', 'boolean', 'Include each version\'s history (default true)')],
        responses: { '200': { description: 'The status summary (schema 1)' }, '400': jsonResponse('Bad parameter', 'Error'), '401': jsonResponse('Missing or wrong key', 'Error') },
      },
    },
    '/status/events': {
      get: {
        operationId: 'statusEvents',
        summary: 'The status summary, live: Server-Sent Events, a `full` summary first, then a `tick` each second.',
        responses: {
          '200': { description: 'text/event-stream' },
          '401': jsonResponse('Missing or wrong key', 'Error'),
          '503': jsonResponse('Too many status streams open', 'Error'),
        },
      },
    },
    '/dashboard/': {
      get: { operationId: 'dashboard', summary: 'The status page (needs no key itself; it asks for the management key).', responses: { '200': { description: 'HTML page' } } },
    },
  };
}
