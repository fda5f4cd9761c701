import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ModelServerError } from '@model-server/protocol';
import { parseProperties } from './properties.js';
import { DEFAULT_GATEWAY_VMARGS, DEFAULT_WORKER_VMARGS, NODE_FLAG, splitVmArgs } from './vm-args.js';
import { reportKeys } from './key-report.js';
import { isJvmFlag, jvmFlagsMessage } from './jvm-args.js';
import { parseModelsBlock } from './models-block.js';
import { isHttpsAddress, loadTlsMaterial } from './tls.js';

const int = (min: number) => z.coerce.number().int().min(min);
/** Seconds, fractions allowed, up to what a Node timer holds (2^31 - 1 ms). */
const seconds = z.coerce.number().positive().max(2_147_483);
const bool = z.union([z.boolean(), z.enum(['true', 'false', 'TRUE', 'FALSE', 'True', 'False'])]).transform((v) => String(v).toLowerCase() === 'true');
const address = z
  .string()
  .regex(/^https?:\/\/[^/\s]+$/, 'must look like http://host:port or https://host:port');
/** gRPC listeners take a host name or IP (as TorchServe's grpc_*_address), the port is a key of its own. */
const host = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*|[A-Za-z0-9.-]+)$/, 'must be a host name or IP address, without scheme or port');
const port = int(0).max(65_535);
// Kept as one space-separated string, as written in config.properties and in config snapshots.
const vmArgs = (key: string) => z
  .string()
  .superRefine((value, ctx) => {
    const tokens = splitVmArgs(value);
    if (tokens.every((arg) => NODE_FLAG.test(arg))) return;
    const message = tokens.some(isJvmFlag)
      ? jvmFlagsMessage(key, tokens)
      : 'must be node flags separated by spaces, such as --max-semi-space-size=4';
    ctx.addIssue({ code: 'custom', message });
  })
  .transform((value) => splitVmArgs(value).join(' '));

/**
 * Server-wide settings, TorchServe's config.properties key names. Timeouts are in seconds as there.
 * Defaults differ from TorchServe's only where its default hurts users (one worker per model instead
 * of one per CPU, see docs/configuration.md).
 */
export const serverConfigSchema = z.object({
  inference_address: address.default('http://127.0.0.1:8080'),
  management_address: address.default('http://127.0.0.1:8081'),
  metrics_address: address.default('http://127.0.0.1:8082'),
  /** gRPC inference listener (TorchServe's inference and the Open Inference Protocol's services, health). */
  grpc_inference_address: host.default('127.0.0.1'),
  grpc_inference_port: port.default(7070),
  grpc_management_address: host.default('127.0.0.1'),
  grpc_management_port: port.default(7071),
  /** Connections older than this get a GOAWAY (grpc-js `grpc.max_connection_age_ms`); unset = unlimited. */
  grpc_inference_max_connection_age_ms: int(1).optional(),
  grpc_management_max_connection_age_ms: int(1).optional(),
  /** Time left to in-flight calls after that GOAWAY; unset = unlimited. */
  grpc_inference_max_connection_age_grace_ms: int(1).optional(),
  grpc_management_max_connection_age_grace_ms: int(1).optional(),
  /** TLS on both gRPC listeners, with private_key_file and certificate_file (TorchServe's keys). */
  enable_grpc_ssl: bool.default(false),
  model_store: z.string().optional(),
  /** Where `POST /workflows` and `--workflows` find workflow archives (`.war`); TorchServe's key. */
  workflow_store: z.string().optional(),
  load_models: z.string().default(''),
  default_workers_per_model: int(0).default(1),
  job_queue_size: int(1).default(100),
  max_request_size: int(1).default(6_553_500),
  max_response_size: int(1).default(6_553_500),
  default_response_timeout: int(1).default(120),
  default_startup_timeout: int(1).default(120),
  unregister_model_timeout: int(1).default(120),
  /**
   * Seconds within which a client must send a whole request, headers and body; past it the answer is
   * 408 and the connection is closed, so a client that trickles bytes cannot hold a connection.
   */
  request_read_timeout: int(1).default(60),
  /**
   * Seconds a shutdown (SIGTERM, Ctrl-C) gives queued and running requests to finish before what is
   * left fails and the workers are terminated. Keep it under Kubernetes' terminationGracePeriodSeconds
   * minus the preStop delay.
   */
  shutdown_grace_period: int(0).default(30),
  /** TorchServe's access log: one line per HTTP response in access_log.log of the log folder (LOG_LOCATION). */
  enable_access_log: bool.default(true),
  /** Bytes past which a log file of the server (access_log.log, model_server.log) is rotated. */
  log_max_file_size: int(1024).default(100 * 1024 * 1024),
  /** Rotated copies kept of each log file (access_log.log.1 … .N). */
  log_max_files: int(0).default(5),
  enable_model_api: bool.default(false),
  disable_token_authorization: bool.default(false),
  token_expiration_min: z.coerce.number().min(0).default(60),
  allowed_urls: z.string().default('file://.*|http(s)?://.*'),
  /** TorchServe's guard: TS_ALLOWED_URLS is read from the environment only when this is true. */
  use_env_allowed_urls: bool.default(false),
  /** PEM private key for https:// addresses (TorchServe's name). */
  private_key_file: z.string().default(''),
  /** PEM certificate, or chain, for https:// addresses. */
  certificate_file: z.string().default(''),
  /** Where generated keys are written (TorchServe: key_file.json in the working directory). */
  token_key_file: z.string().default('key_file.json'),
  /** Fixed keys for containers; empty means generate one. Given keys never expire. */
  inference_key: z.string().default(''),
  management_key: z.string().default(''),
  /** Largest model archive the management API downloads from a URL. */
  max_download_size: int(1).default(4 * 1024 ** 3),
  /** Seconds a model download may take to connect (TCP and TLS, DNS included). */
  download_connect_timeout: seconds.default(10),
  /** Seconds a model download may go without receiving a byte (headers or body). */
  download_idle_timeout: seconds.default(60),
  /** Seconds a whole model download may take, redirects included: a peer trickling bytes ends here. */
  download_timeout: seconds.default(600),
  /** Largest size in bytes a .mar / .tar.gz archive may unpack to. */
  max_unpacked_size: int(1).default(4 * 1024 ** 3),
  /**
   * Upper bound of any model's worker count (min_worker, max_worker, initial_workers, minWorkers,
   * maxWorkers): a single scale call cannot fork the machine to death.
   */
  max_workers_per_model: int(1).default(32),
  /** `native` (lint-clean names), or TorchServe's `prometheus` / `legacy` names on top (docs/metrics.md). */
  metrics_mode: z.enum(['native', 'prometheus', 'legacy', 'log']).default('native'),
  /** Models to restore, as TorchServe's config snapshots write them (JSON); wins over load_models. */
  model_snapshot: z.string().default(''),
  /**
   * TorchServe's per-model settings block (JSON): model -> version -> minWorkers, maxWorkers, batchSize,
   * maxBatchDelay, responseTimeout, startupTimeout, marName, defaultVersion (config/models-block.ts).
   */
  models: z.string().default(''),
  enable_envvars_config: bool.default(false),
  /**
   * Stream chunks a slow client may leave unsent before its stream is failed (503 STREAM_OVERFLOW,
   * in-band for SSE and WebSocket) and its request cancelled in the worker: memory stays bounded.
   */
  stream_max_buffered_chunks: int(1).default(256),
  /** Seconds a cancelled request may keep its worker busy before the worker is taken as hung and replaced. */
  cancel_grace_period: z.coerce.number().min(0).default(5),
  /** Where .mar archives are unpacked; defaults to a folder under the OS temp dir. */
  model_work_dir: z.string().optional(),
  /** Node and V8 flags of the gateway process (TorchServe's JVM `vmargs`); `model-server start` applies them. */
  vmargs: vmArgs('vmargs').prefault(DEFAULT_GATEWAY_VMARGS),
  /** Node and V8 flags of every worker process. */
  worker_vmargs: vmArgs('worker_vmargs').prefault(DEFAULT_WORKER_VMARGS),
}).superRefine((c, ctx) => {
  if (c.default_workers_per_model > c.max_workers_per_model) {
    ctx.addIssue({ code: 'custom', path: ['default_workers_per_model'], message: `must not exceed max_workers_per_model (${c.max_workers_per_model})` });
  }
});

export type ServerConfig = Readonly<z.infer<typeof serverConfigSchema>>;

/** Keys recognised from config.properties, so unknown TorchServe keys can be reported, not silently used. */
export const KNOWN_KEYS = new Set(Object.keys(serverConfigSchema.shape));

export interface LoadConfigOptions {
  /** Path of config.properties (`--ts-config`), if any. */
  file?: string | undefined;
  /** Values from CLI flags; they win over the file. */
  overrides?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Receives a warning per key that is not recognised. */
  warn?: (message: string) => void;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Builds the server config once: defaults < config.properties < TS_* env vars (when
 * enable_envvars_config) < CLI flags. Validated with zod; a bad value throws CONFIG_INVALID naming
 * the key and the file. The result is frozen.
 */
export function loadServerConfig(options: LoadConfigOptions = {}): ServerConfig {
  const env = options.env ?? process.env;
  const source = options.file ?? '(defaults)';
  let fromFile: Record<string, string> = {};
  if (options.file) {
    try {
      fromFile = parseProperties(readFileSync(options.file, 'utf8'), env);
    } catch (cause) {
      throw new ModelServerError('CONFIG_INVALID', { file: options.file, reason: (cause as Error).message }, { cause });
    }
  }
  const merged: Record<string, unknown> = { ...fromFile };
  // TorchServe's older name, still in KServe's sample configs.
  if (merged['metrics_format'] !== undefined && merged['metrics_mode'] === undefined) merged['metrics_mode'] = merged['metrics_format'];
  if (String(merged['enable_envvars_config'] ?? '').toLowerCase() === 'true' || env['TS_ENABLE_ENVVARS_CONFIG'] === 'true') {
    const allowedFromEnv = String(env['TS_USE_ENV_ALLOWED_URLS'] ?? merged['use_env_allowed_urls'] ?? '').toLowerCase() === 'true';
    for (const key of KNOWN_KEYS) {
      // As TorchServe: the URL allow-list is a security setting, not taken from the environment unless asked.
      if (key === 'allowed_urls' && !allowedFromEnv) continue;
      const value = env[`TS_${key.toUpperCase()}`];
      if (value !== undefined) merged[key] = value;
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) if (value !== undefined) merged[key] = value;
  reportKeys(fromFile, KNOWN_KEYS, source, options.warn);
  const known = Object.fromEntries(Object.entries(merged).filter(([k]) => KNOWN_KEYS.has(k)));
  const parsed = serverConfigSchema.safeParse(known);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.');
    throw new ModelServerError('CONFIG_INVALID', {
      file: source,
      reason: `${key}: ${issue.message} (got ${JSON.stringify(known[key])})`,
    });
  }
  const config = parsed.data;
  parseModelsBlock(config.models, source);
  checkTls(config, options.warn);
  return deepFreeze(config);
}

/** The addresses served over TLS; their key and certificate are read now, so a bad one stops start-up before anything listens. */
function checkTls(config: z.infer<typeof serverConfigSchema>, warn: ((message: string) => void) | undefined): void {
  const https = (['inference_address', 'management_address', 'metrics_address'] as const).filter((k) => isHttpsAddress(config[k]));
  if (https.length > 0) loadTlsMaterial(config, `${https[0]}=${config[https[0]!]}`);
  else if (config.private_key_file || config.certificate_file) {
    warn?.('private_key_file / certificate_file are set, but no address is https://: every listener serves plain HTTP');
  }
}

/** host and port of an `http://host:port` address. */
export function parseAddress(addr: string): { host: string; port: number } {
  const url = new URL(addr);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
}
