import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LOG_FILE_ENV, defaultSnapshotDir, gatewayNodeArgs, isHttpsAddress, type ServerConfig } from '@model-server/gateway/launch';
import { authBanner, configFrom, configSource, type ConfigSource, type Values } from './config-lookup.js';
import { pingStatus } from './local-client.js';
import { needsRelaunch, relaunch } from './relaunch.js';
import { clearState, isAlive, readState, writeState } from './state-file.js';

export function fail(message: string, code = 1): number {
  process.stderr.write(`model-server: ${message}\n`);
  return code;
}

/** The certificate of the server's https:// listeners, if any, for the CLI's own requests to it. */
function certificateFile(config: ServerConfig): string | undefined {
  const https = [config.inference_address, config.management_address, config.metrics_address].some(isHttpsAddress);
  return https && config.certificate_file ? resolve(config.certificate_file) : undefined;
}

async function alreadyRunning(): Promise<string | undefined> {
  const existing = await readState();
  if (existing && existing.pid !== process.pid && isAlive(existing.pid)) {
    return `model-server is already running in this folder (pid ${existing.pid}, ${existing.addresses.inference}); stop it first with "model-server stop", or start another from another folder`;
  }
  return undefined;
}

async function load(values: Values): Promise<{ source: ConfigSource; config: ServerConfig } | number> {
  try {
    const source = await configSource(values);
    return { source, config: configFrom(values, source.file) };
  } catch (err) {
    return fail((err as Error).message, 2);
  }
}

export async function runForeground(values: Values): Promise<number> {
  const loaded = await load(values);
  if (typeof loaded === 'number') return loaded;
  const { source, config } = loaded;
  const running = await alreadyRunning();
  if (running) return fail(running);
  const nodeArgs = gatewayNodeArgs(config);
  if (needsRelaunch(nodeArgs)) return relaunch(nodeArgs);
  // Loaded only here: a process that relaunched itself just waits, and should not hold the gateway's code.
  const { Gateway, createLogger } = await import('@model-server/gateway');
  const snapshotDir = values['ncs'] ? undefined : defaultSnapshotDir();
  let gateway;
  try {
    const logger = createLogger(undefined, { maxBytes: config.log_max_file_size, maxFiles: config.log_max_files });
    gateway = await Gateway.start({ config, logger, models: values['models'] as string[] | undefined, workflows: values['workflows'] as string[] | undefined, snapshotDir });
  } catch (err) {
    return fail((err as Error).message);
  }
  const tokenAuth = { on: gateway.tokens !== undefined, keyFile: gateway.tokens?.keyFileWritten ? gateway.tokens.keyFile : undefined };
  await writeState({
    pid: process.pid,
    addresses: gateway.addresses,
    startedAt: new Date().toISOString(),
    configFile: source.userFile,
    tokenAuth,
    restoredSnapshot: source.restoredSnapshot,
    certificateFile: certificateFile(config),
  });
  process.stdout.write(
    `model-server ${gateway.version} started (pid ${process.pid})\n` +
      `  inference:  ${gateway.addresses.inference}\n  management: ${gateway.addresses.management}\n  metrics:    ${gateway.addresses.metrics}\n` +
      `  gRPC:       inference ${gateway.addresses.grpcInference}, management ${gateway.addresses.grpcManagement}\n` +
      `  models:     ${gateway.registry.names().join(', ') || '(none)'}\n` +
      (gateway.workflows.names().length > 0 ? `  workflows:  ${gateway.workflows.names().join(', ')}\n` : '') +
      authBanner(tokenAuth, source, values),
  );
  // The first SIGTERM or Ctrl-C drains (see Gateway.shutdown); a second one stops at once.
  let signals = 0;
  const stop = (): void => {
    signals++;
    const done = signals === 1 ? gateway.shutdown(config.shutdown_grace_period * 1000) : gateway.stop();
    void done
      .catch((err: unknown) => process.stderr.write(`model-server: ${(err as Error).message}\n`))
      .finally(() => clearState(process.pid))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return new Promise<number>(() => undefined);
}

/** The server's own error lines from the end of its log, to show why a background start failed. */
function lastErrors(logFile: string, from: number): string {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8').slice(from);
  } catch {
    return '';
  }
  const lines = text.split('\n').filter((l) => l.startsWith('model-server:') || /"level":(50|60)/.test(l));
  return lines.slice(-5).map((l) => `  ${l}\n`).join('');
}

/** Starts the server in the background and returns once it answers /ping Healthy. */
export async function runDetached(argv: readonly string[], values: Values): Promise<number> {
  const running = await alreadyRunning();
  if (running) return fail(running);
  const loaded = await load(values);
  if (typeof loaded === 'number') return loaded;
  // The server's node flags come from its config; given here, the server needs no relaunch of its own.
  const nodeArgs = gatewayNodeArgs(loaded.config);
  const cert = certificateFile(loaded.config);
  // The server outlives this command, so its output goes to a log file (TorchServe's LOG_LOCATION).
  const logDir = resolve(process.env['LOG_LOCATION'] ?? 'logs');
  mkdirSync(logDir, { recursive: true });
  // The server writes its log itself (model_server.log, rotated by size); what reaches its stdout and
  // stderr (the start banner, a crash's trace) goes to model_server.out.
  const logFile = join(logDir, 'model_server.log');
  const outFile = join(logDir, 'model_server.out');
  const log = openSync(outFile, 'a');
  const sizeOf = (file: string): number => {
    try {
      return readFileSync(file).byteLength;
    } catch {
      return 0;
    }
  };
  const logStart = sizeOf(logFile);
  const outStart = sizeOf(outFile);
  const child = spawn(process.execPath, [...nodeArgs, process.argv[1]!, 'start', ...argv, '--foreground'], {
    env: { ...process.env, [LOG_FILE_ENV]: logFile },
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  const deadline = Date.now() + Number(values['start-timeout'] ?? 300) * 1000;
  while (Date.now() < deadline) {
    if (exited !== null) {
      return fail(`server exited during start-up (code ${exited}); see ${logFile} and ${outFile}\n${lastErrors(logFile, logStart)}${lastErrors(outFile, outStart)}`.trimEnd());
    }
    const state = await readState();
    if (state && state.pid === child.pid && (await pingStatus(state.addresses.inference, cert)) === 200) {
      process.stdout.write(
        `model-server started (pid ${state.pid})\n  inference:  ${state.addresses.inference}\n` +
          `  management: ${state.addresses.management}\n  metrics:    ${state.addresses.metrics}\n  log:        ${logFile}\n` +
          authBanner(state.tokenAuth ?? { on: false }, state, values),
      );
      return 0;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return fail(`server did not become healthy in time; see ${logFile}`);
}
