import { credentials, loadPackageDefinition, Metadata, type CallOptions, type ChannelCredentials, type Client, type ClientDuplexStream, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { GRPC_SERVICES, loadGrpcDefinitions } from '@model-server/gateway';

/**
 * Real grpc-js clients generated at run time from the server's own .proto files (the ones the package
 * ships), as a user's client would be. 64-bit integers come back as numbers (readable assertions), or
 * as decimal strings from an `exact` client.
 */
const roots = {
  number: loadPackageDefinition(loadGrpcDefinitions({ longs: Number })),
  exact: loadPackageDefinition(loadGrpcDefinitions({ longs: String })),
};

type Constructor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options?: object) => Client;

function constructorOf(fullName: string, longs: keyof typeof roots): Constructor {
  let node: unknown = roots[longs];
  for (const part of fullName.split('.')) node = (node as Record<string, unknown>)[part];
  return node as Constructor;
}

export type GrpcClient = Client & Record<string, (...args: unknown[]) => unknown>;

/** A client of one of the served services (a key of GRPC_SERVICES); `options` are channel options. */
export function grpcClient(
  service: keyof typeof GRPC_SERVICES,
  address: string,
  options: object = {},
  longs: keyof typeof roots = 'number',
  creds: ChannelCredentials = credentials.createInsecure(),
): GrpcClient {
  const Ctor = constructorOf(GRPC_SERVICES[service], longs);
  return new Ctor(address, creds, options) as GrpcClient;
}

/** `authorization: Bearer <key>` metadata (plus any other entries). */
export function metadata(entries: Record<string, string> = {}): Metadata {
  const m = new Metadata();
  for (const [k, v] of Object.entries(entries)) m.set(k, v);
  return m;
}

export function bearer(key: string): Metadata {
  return metadata({ authorization: `Bearer ${key}` });
}

/** A unary call as a promise of its answer; rejects with the ServiceError (code, details). */
export function unary<Res = Record<string, unknown>>(client: GrpcClient, rpc: string, request: unknown, meta: Metadata = new Metadata(), options: CallOptions = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    client[rpc]!(request, meta, options, (err: ServiceError | null, response: Res) => (err ? reject(err) : resolve(response)));
  });
}

/** The error a call fails with (a test helper for the refusal paths). */
export async function unaryError(client: GrpcClient, rpc: string, request: unknown, meta?: Metadata, options?: CallOptions): Promise<ServiceError> {
  try {
    await unary(client, rpc, request, meta, options);
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error(`${rpc} succeeded where an error was expected`);
}

export interface StreamOutcome<M> {
  messages: M[];
  /** Undefined when the call ended with OK. */
  error: ServiceError | undefined;
}

/** Reads a server stream (or the read side of a bidirectional one) to its end. */
export function collect<M>(call: ClientReadableStream<M> | ClientDuplexStream<unknown, M>): Promise<StreamOutcome<M>> {
  return new Promise((resolve) => {
    const messages: M[] = [];
    let error: ServiceError | undefined;
    call.on('data', (m: M) => messages.push(m));
    call.on('error', (err: ServiceError) => {
      error = err;
    });
    // 'status' comes last, after every message and any error.
    call.on('status', () => resolve({ messages, error }));
  });
}

/** The gRPC status codes by name, as numbers. */
export { status as grpcStatus } from '@grpc/grpc-js';
