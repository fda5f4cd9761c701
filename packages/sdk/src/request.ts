import { decodeRequestTensor, firstBytesElement, type RequestTensor } from './request-tensor.js';
import { PredictionError } from './errors.js';

/** One named input of a request, as the gateway received it (a multipart part, or the raw body as `body`). */
export interface RequestInput {
  readonly name: string;
  readonly contentType: string;
  readonly data: Uint8Array;
}

const decoder = new TextDecoder();

/**
 * One request of a batch, as a handler sees it. Several inputs may share a name (`-F data=@a -F data=@b`);
 * all of them are kept, in order.
 */
export class HandlerRequest {
  constructor(
    /** The gateway's id for this request: unique among the requests a worker holds. */
    readonly id: string,
    readonly headers: Readonly<Record<string, string>>,
    readonly inputs: readonly RequestInput[],
  ) {}

  /**
   * The request's public id, as the client sees it in `x-request-id` and the gateway's logs show it
   * (the client's own, when it sent a safe one). Use it to correlate a handler's logs.
   */
  get requestId(): string {
    return this.headers['x-request-id'] ?? this.id;
  }

  /** The first input with this name. */
  get(name: string): RequestInput | undefined {
    return this.inputs.find((input) => input.name === name);
  }

  /** Every input with this name, in the order the client sent them. */
  getAll(name: string): RequestInput[] {
    return this.inputs.filter((input) => input.name === name);
  }

  /**
   * The payload most handlers want: the `data` field, else the raw `body`, else the first input,
   * as TorchServe handlers conventionally read `row.get("data") or row.get("body")`. For an Open
   * Inference Protocol request whose input is BYTES, its first element (KServe clients send an image
   * as one BYTES element), so a handler written for `/predictions` serves `/v2/.../infer` unchanged.
   */
  get payload(): Uint8Array {
    const input = this.get('data') ?? this.get('body') ?? this.inputs[0];
    if (!input) return new Uint8Array(0);
    return firstBytesElement(input) ?? input.data;
  }

  /**
   * The named input (default: the first) as a tensor, when the request came through the Open Inference
   * Protocol (`/v2/models/{m}/infer`): datatype, shape, and typed data. Undefined for other inputs.
   */
  tensor(name?: string): RequestTensor | undefined {
    const input = name === undefined ? this.inputs[0] : this.get(name);
    return input ? decodeRequestTensor(input) : undefined;
  }

  /** Every tensor input, in the order sent (empty when the request has none). */
  tensors(): RequestTensor[] {
    return this.inputs.map(decodeRequestTensor).filter((t): t is RequestTensor => t !== undefined);
  }

  /** The payload (or the named input) decoded as UTF-8. */
  text(name?: string): string {
    return decoder.decode(name === undefined ? this.payload : (this.get(name)?.data ?? new Uint8Array(0)));
  }

  /**
   * The payload (or the named input) parsed as JSON. Text that is not JSON is the client's mistake:
   * a PredictionError with status 400 naming the input, not a 500.
   */
  json<T = unknown>(name?: string): T {
    try {
      return JSON.parse(this.text(name)) as T;
    } catch (err) {
      const what = name ?? this.payloadName() ?? 'the request body';
      throw new PredictionError(`Invalid input: ${what} is not valid JSON (${(err as Error).message})`, 400);
    }
  }

  private payloadName(): string | undefined {
    return (this.get('data') ?? this.get('body') ?? this.inputs[0])?.name;
  }

  /** A request header, by case-insensitive name. */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }
}
