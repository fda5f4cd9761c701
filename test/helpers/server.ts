import { tempDir } from './models.js';
import { EPHEMERAL_LOOPBACK, Gateway, createLogger, loadServerConfig } from '@model-server/gateway';

export interface TestServer {
  gateway: Gateway;
  /** Base URL of the inference API. */
  url: string;
  management: string;
  metrics: string;
  /** `host:port` of the gRPC inference and management listeners. */
  grpc: string;
  grpcManagement: string;
  stop(): Promise<void>;
}

/** Starts a real gateway on loopback port 0 with the given store and models (`name=file` or `file`). */
export async function startServer(options: {
  store: string;
  models: string[];
  config?: Record<string, unknown>;
  cancelGraceMs?: number;
}): Promise<TestServer> {
  const config = loadServerConfig({
    overrides: {
      ...EPHEMERAL_LOOPBACK,
      model_store: options.store,
      disable_token_authorization: true,
      ...options.config,
    },
  });
  const gateway = await Gateway.start({
    config,
    logDir: await tempDir('ms-logs-'),
    models: options.models,
    logger: createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent'),
    ...(options.cancelGraceMs !== undefined ? { cancelGraceMs: options.cancelGraceMs } : {}),
  });
  return {
    gateway,
    url: gateway.addresses.inference,
    management: gateway.addresses.management,
    metrics: gateway.addresses.metrics,
    grpc: gateway.addresses.grpcInference,
    grpcManagement: gateway.addresses.grpcManagement,
    stop: () => gateway.stop(),
  };
}

/** Parses a body as JSON, or undefined when it is not JSON (error pages, streams, raw bytes). */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** POSTs a JSON op to the probe model and returns status, headers and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: parseJsonOrUndefined(text) as Record<string, unknown> };
}
