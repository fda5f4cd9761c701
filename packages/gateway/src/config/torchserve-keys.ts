/**
 * What this server does with each of TorchServe's config.properties keys (docs/configuration.md lists
 * them from this table, and a test keeps the two and the loader's behaviour in step):
 * - `honoured`: read and acted on (most are keys of serverConfigSchema; a few are served always);
 * - `warned`: accepted with a warning at start-up naming the key, since it has no effect here;
 * - `refused`: start-up stops, naming the key, because running without it would be wrong silently
 *   (TLS from a keystore, Java plugins that may carry authorization).
 */
export type KeyStatus = 'honoured' | 'warned' | 'refused';

export interface TorchServeKey {
  readonly status: KeyStatus;
  /** Why, or how it is honoured: shown in warnings, refusals and the docs. */
  readonly note: string;
  /** For an honoured key: a warning for values that are not honoured. */
  readonly valueWarning?: (value: string) => string | undefined;
}

const honoured = (note: string, valueWarning?: (value: string) => string | undefined): TorchServeKey =>
  valueWarning ? { status: 'honoured', note, valueWarning } : { status: 'honoured', note };
const warned = (note: string): TorchServeKey => ({ status: 'warned', note });
const refused = (note: string): TorchServeKey => ({ status: 'refused', note });

/** The refusal prints keystoreAdvice(<the keystore's path>): the openssl commands. */
const KEYSTORE = 'convert the Java keystore to PEM files for private_key_file and certificate_file; start-up prints the openssl commands';

export const TORCHSERVE_KEYS: Readonly<Record<string, TorchServeKey>> = Object.freeze({
  inference_address: honoured('http:// or https:// (TLS from private_key_file / certificate_file)'),
  management_address: honoured('the same address as inference_address serves both APIs on one listener'),
  metrics_address: honoured('the same address as another API adds /metrics to that listener'),
  grpc_inference_address: honoured('TorchServe inference, the Open Inference Protocol and gRPC health on one listener (docs/grpc.md)'),
  grpc_management_address: honoured('TorchServe management over gRPC'),
  grpc_inference_port: honoured('default 7070'),
  grpc_management_port: honoured('default 7071'),
  enable_grpc_ssl: honoured('TLS on both gRPC listeners with private_key_file and certificate_file'),
  model_store: honoured('archives, archive folders and bare .onnx models'),
  workflow_store: honoured('workflow archives (.war) for POST /workflows and --workflows'),
  load_models: honoured('all, a.mar,b.mar, name=a.mar, name=model.onnx'),
  models: honoured('per model and version: minWorkers, maxWorkers, batchSize, maxBatchDelay, responseTimeout, startupTimeout, marName, defaultVersion'),
  default_workers_per_model: honoured('default 1 (TorchServe: one per CPU)'),
  job_queue_size: honoured('as in TorchServe (see above)'),
  max_request_size: honoured('as in TorchServe (see above)'),
  max_response_size: honoured('as in TorchServe (see above)'),
  default_response_timeout: honoured('a per-request deadline (504), the worker is not killed'),
  default_startup_timeout: honoured('as in TorchServe (see above)'),
  unregister_model_timeout: honoured('as in TorchServe (see above)'),
  number_of_netty_threads: warned('no Netty: one event loop serves every connection'),
  netty_client_threads: warned('no Netty: one event loop serves every connection'),
  number_of_gpu: warned('models run on the CPU (onnxruntime-node CPU build)'),
  initial_worker_port: warned('workers talk over Unix sockets, not ports'),
  initial_distribution_port: warned('no distributed (torchrun) workers'),
  enable_envvars_config: honoured('TS_<KEY> environment variables override the file'),
  use_env_allowed_urls: honoured('TS_ALLOWED_URLS is read only when true'),
  cors_allowed_origin: warned('CORS headers are not sent'),
  cors_allowed_methods: warned('CORS headers are not sent'),
  cors_allowed_headers: warned('CORS headers are not sent'),
  keystore: refused(KEYSTORE),
  keystore_pass: refused(KEYSTORE),
  keystore_type: refused(KEYSTORE),
  private_key_file: honoured('PEM private key for https:// addresses'),
  certificate_file: honoured('PEM certificate (chain) for https:// addresses'),
  allowed_urls: honoured('as in TorchServe (see above)'),
  enable_model_api: honoured('as in TorchServe (see above)'),
  disable_token_authorization: honoured('as in TorchServe (see above)'),
  token_expiration_min: honoured('as in TorchServe (see above)'),
  metrics_mode: honoured('native, prometheus, legacy, log'),
  metrics_format: honoured('older name of metrics_mode (KServe\'s sample configs)'),
  metrics_config: warned('metrics are defined by the server; handlers add their own through context.metrics'),
  enable_metrics_api: warned('the metrics listener always runs'),
  metric_time_interval: warned('process metrics are read at each scrape'),
  model_metrics_auto_detect: warned('handler metrics are always exported'),
  disable_system_metrics: warned('process metrics are always exported'),
  decode_input_request: warned('handlers get bytes and decode them (request.text(), request.json())'),
  limit_max_image_pixels: warned('image decoding has its own bounds (the SDK\'s decodeImage)'),
  prefer_direct_buffer: warned('a JVM setting'),
  use_native_io: warned('a JVM setting'),
  async_logging: warned('logging is asynchronous always'),
  install_py_dep_per_model: warned('Python dependencies do not apply; model-archiver --requirements-file bundles a handler\'s npm dependencies'),
  blacklist_env_vars: warned('workers inherit the server\'s environment'),
  service_envelope: honoured('KServe v1 and v2 are served natively, no envelope needed', (value) =>
    ['', 'kserve', 'kservev2'].includes(value) ? undefined : `service_envelope=${value} is not supported; handlers get the request as sent`,
  ),
  default_service_handler: warned('every archive names its handler'),
  ts_open_inference_protocol: honoured('the Open Inference Protocol is always served'),
  ts_header_key_sequence_id: warned('sequence headers are read by the handler (see examples/vad)'),
  ts_header_key_sequence_start: warned('sequence headers are read by the handler (see examples/vad)'),
  ts_header_key_sequence_end: warned('sequence headers are read by the handler (see examples/vad)'),
  vmargs: honoured('node flags of the gateway; JVM flags are refused with their node equivalent'),
  plugins_path: refused('Java plugins are not supported; TorchServe plugins often carry authorization, so the server does not start without them silently'),
  cpu_launcher_enable: warned('no CPU pinning; ONNX Runtime threads are set per model (onnx.intraOpNumThreads)'),
  cpu_launcher_args: warned('no CPU pinning; ONNX Runtime threads are set per model (onnx.intraOpNumThreads)'),
  ipex_enable: warned('no Intel Extension for PyTorch'),
  model_snapshot: honoured('as in TorchServe (see above)'),
});

/** Keys honoured without being a field of serverConfigSchema: served always, or aliases. */
export const ALWAYS_HONOURED: ReadonlySet<string> = new Set(['service_envelope', 'ts_open_inference_protocol', 'metrics_format']);
