import type { Request } from 'express';
import { ModelServerError } from '@model-server/protocol';

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

  bool(name: string): boolean | undefined {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return undefined;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new ModelServerError('BAD_REQUEST', { reason: `Parameter ${name} must be true or false (got "${raw}")` });
  }
}
