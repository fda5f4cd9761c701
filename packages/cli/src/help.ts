import { flagLines, type Command, type FlagSpec } from './args.js';

const NO_LOG_CONFIG = 'logging is configured with LOG_LEVEL and LOG_FORMAT (there is no log4j)';

export const START_FLAGS: readonly FlagSpec[] = [
  { name: 'model-store', takes: 'one', arg: 'DIR', help: 'folder of model archives and .onnx models (config key model_store)' },
  { name: 'models', takes: 'many', arg: 'SPEC...', help: 'models to load: name=path, path or all; several after one flag (a=a.mar b=b.mar) or comma-separated' },
  { name: 'workflow-store', takes: 'one', arg: 'DIR', help: 'folder of workflow archives, .war (config key workflow_store)' },
  { name: 'workflows', takes: 'many', arg: 'SPEC...', help: 'workflows to load after the models: name=x.war, x.war or all' },
  { name: 'ts-config', takes: 'one', arg: 'FILE', help: 'config.properties to read (default: newest config snapshot, then ./config.properties)' },
  { name: 'foreground', takes: 'none', help: 'run in this terminal instead of in the background' },
  { name: 'disable-token-auth', aliases: ['dt'], takes: 'none', help: 'turn token authorization off (disable_token_authorization=true)' },
  { name: 'enable-model-api', takes: 'none', help: 'allow registering and unregistering models through the management API' },
  { name: 'ncs', aliases: ['no-config-snapshots'], takes: 'none', help: 'neither restore nor write config snapshots' },
  { name: 'start-timeout', takes: 'one', arg: 'SECONDS', help: 'how long a background start waits for /ping to be Healthy (default 300)' },
  { name: 'log-config', takes: 'one', unsupported: NO_LOG_CONFIG, help: '' },
  { name: 'cpp-log-config', takes: 'one', unsupported: NO_LOG_CONFIG, help: '' },
  { name: 'plugins-path', aliases: ['ppath'], takes: 'one', unsupported: 'Java plugins do not run here', help: '' },

];

const WHICH_SERVER: readonly FlagSpec[] = [
  { name: 'ts-config', takes: 'one', arg: 'FILE', help: 'the server started with this config file (default: the server started in this folder)' },
  { name: 'pid', takes: 'one', arg: 'PID', help: 'the server with this process id' },
];

export const STOP_FLAGS: readonly FlagSpec[] = WHICH_SERVER;
export const STATUS_FLAGS: readonly FlagSpec[] = [
  ...WHICH_SERVER,
  { name: 'all', takes: 'none', help: 'every server of this user, from any folder' },
  { name: 'watch', takes: 'none', help: 'redraw the live summary table (requests/s, p99, queue, workers) until Ctrl-C' },
  { name: 'interval', takes: 'one', arg: 'SECONDS', help: 'seconds between redraws with --watch (default 1)' },
];

export function flagsOf(command: Command): readonly FlagSpec[] {
  return command === 'start' ? START_FLAGS : command === 'stop' ? STOP_FLAGS : command === 'status' ? STATUS_FLAGS : [];
}

const STATE_ENV = '  MODEL_SERVER_STATE_DIR  where servers record themselves for stop and status (default: the OS temp dir)';

const START_ENV = [
  '  TS_CONFIG_FILE          config file, instead of --ts-config',
  '  LOG_LOCATION            folder of model_server.log (background start) and config snapshots (default: logs)',
  '  LOG_LEVEL               trace, debug, info (default), warn, error',
  '  LOG_FORMAT              json or text (default: text on a terminal, else json)',
  '  TS_<KEY>                any config key, when enable_envvars_config=true (TS_INFERENCE_ADDRESS, ...)',
  '  MODEL_SERVER_SOCKET_DIR folder of the worker sockets (default: the OS temp dir)',
  '  TMPDIR                  where archives are unpacked (model_work_dir) and, by default, state and sockets go',
  STATE_ENV,
].join('\n');

export const HELP: Readonly<Record<Command, string>> = {
  start: `usage: model-server start [flags]     (TorchServe's form: model-server --start [flags])

Starts the server: in the background, returning once /ping is Healthy (output in $LOG_LOCATION/model_server.log),
or in this terminal with --foreground. One server per folder; start others from other folders on other ports.

flags:
${flagLines(START_FLAGS)}
TorchServe flags refused with a reason: ${START_FLAGS.filter((f) => f.unsupported).map((f) => `--${f.name}`).join(', ')}

environment:
${START_ENV}`,
  stop: `usage: model-server stop [flags]      (TorchServe's form: model-server --stop)

Stops the server started in this folder (or the one named), letting running requests finish.

flags:
${flagLines(STOP_FLAGS)}

environment:
${STATE_ENV}`,
  status: `usage: model-server status [flags]

Shows the server started in this folder (or the one named): addresses, health, token authorization, and each
model's versions, workers (state, pid, memory) and queue, then the live summary table (requests/s, p50/p99,
errors) that the status page shows; --watch redraws the table. Exit code 0 when it is Healthy.

flags:
${flagLines(STATUS_FLAGS)}

environment:
${STATE_ENV}`,
  help: '',
  version: '',
};

export const USAGE = `usage: model-server start [--model-store DIR] [--models name=path ...] [--ts-config FILE] [--foreground] ...
       model-server stop | status
       model-server --start | --stop | -v | --help      (TorchServe's forms)
       model-server COMMAND --help                      (the flags and environment of a command)`;
