import type { Request } from 'express';
import { ModelServerError } from '@model-server/protocol';

/** TorchServe's page size bounds for the list routes. */
const MAX_PAGE_SIZE = 100;

/**
 * Management parameters by TorchServe's snake_case names, whatever carried them: the REST API's query
 * string or JSON body (`fromRequest`), or a gRPC request's fields. Unlike TorchServe, a value that is
 * not a number or boolean is refused with 400 instead of silently becoming the default.
 */
export class Params {
  /** Absent, null and "" values all mean "not given". */
  constructor(private readonly values: Readonly<Record<string, unknown>>) {}

  /** TorchServe's REST sources: the query string, or for `POST /models` with `Content-Type: application/json` the body. */
  static fromRequest(req: Request): Params {
    const body = req.is('application/json') && req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
    return new Params({ ...(req.query as Record<string, unknown>), ...body });
  }

  string(name: string): string | undefined {
    const v = this.values[name];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new ModelServerError('BAD_REQUEST', { reason: `Parameter ${name} must be a single value` });
  }

  /** An integer >= min; `max` bounds it too and names the setting that sets the bound. */
  int(name: string, min: number, max?: { value: number; setting: string }): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      throw new ModelServerError('BAD_REQUEST', { reason: `Parameter ${name} must be an integer >= ${min} (got "${raw}")` });
    }
    if (max && n > max.value) {
      throw new ModelServerError('BAD_REQUEST', { reason: `Parameter ${name} must be at most ${max.value}, the server's ${max.setting} (got ${n})` });
    }
    return n;
  }

  /** A worker count, bounded by `max_workers_per_model`. */
  workers(name: string, maxWorkersPerModel: number): number | undefined {
    return this.int(name, 0, { value: maxWorkersPerModel, setting: 'max_workers_per_model' });
  }

  /**
   * One page of a sorted list, from `limit` and `next_page_token` (an offset) as TorchServe reads them:
   * a limit outside 0..100 means 100, a bad number means the default. `nextPageToken` is set while
   * more remain.
   */
  page<T>(items: readonly T[]): { items: T[]; nextPageToken?: string } {
    let limit = Number(this.string('limit') ?? MAX_PAGE_SIZE);
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_PAGE_SIZE) limit = MAX_PAGE_SIZE;
    let offset = Number(this.string('next_page_token') ?? 0);
    if (!Number.isInteger(offset) || offset < 0) offset = 0;
    const page = items.slice(offset, offset + limit);
    return offset + limit < items.length ? { nextPageToken: String(offset + limit), items: page } : { items: page };
  }

  bool(name: string): boolean | undefined {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return undefined;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new ModelServerError('BAD_REQUEST', { reason: `Parameter ${name} must be true or false (got "${raw}")` });
  }
}
