#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultSnapshotDir, gatewayNodeArgs, latestSnapshot, loadServerConfig, type ServerConfig } from '@model-server/gateway/launch';
import { needsRelaunch, relaunch } from './relaunch.js';
import { clearState, isAlive, readState, writeState } from './state-file.js';

const USAGE = `usage: model-server start [--model-store DIR] [--models name=path|path|all ...] [--ts-config FILE]
                          [--foreground] [--disable-token-auth] [--enable-model-api] [--ncs]
                          [--workflow-store DIR] [--workflows name=x.war|x.war|all ...]
       model-server stop
       model-server status`;

const START_OPTIONS = {
  'model-store': { type: 'string' },
  models: { type: 'string', multiple: true },
  'workflow-store': { type: 'string' },
  workflows: { type: 'string', multiple: true },
  'ts-config': { type: 'string' },
  foreground: { type: 'boolean', default: false },
  'disable-token-auth': { type: 'boolean', default: false },
  'enable-model-api': { type: 'boolean', default: false },
  ncs: { type: 'boolean', default: false },
  'start-timeout': { type: 'string', default: '300' },
} as const;

function fail(message: string, code = 1): number {
  process.stderr.write(`model-server: ${message}\n`);
  return code;
}

/**
 * The config file, looked up as TorchServe does: `TS_CONFIG_FILE`, then `--ts-config`, then (unless
 * `--ncs`) the newest config snapshot, which restores the models of the last run.
 */
async function configFile(values: Record<string, unknown>, snapshotDir: string | undefined): Promise<string | undefined> {
  const given = process.env['TS_CONFIG_FILE'] ?? (values['ts-config'] as string | undefined);
  if (given || !snapshotDir) return given;
  const snapshot = await latestSnapshot(snapshotDir);
  if (snapshot) {
    process.stderr.write(`model-server: restoring from config snapshot ${snapshot} (--ncs to start without it)\n`);
    if (values['models']) process.stderr.write('model-server: warning: --models is ignored when a config snapshot is restored\n');
  }
  return snapshot;
}

function configFrom(values: Record<string, unknown>, file: string | undefined): ServerConfig {
  const overrides: Record<string, unknown> = {};
  if (values['model-store']) overrides['model_store'] = values['model-store'];
  if (values['workflow-store']) overrides['workflow_store'] = values['workflow-store'];
  if (values['disable-token-auth']) overrides['disable_token_authorization'] = true;
  if (values['enable-model-api']) overrides['enable_model_api'] = true;
  return loadServerConfig({
    file,
    overrides,
    warn: (m) => process.stderr.write(`model-server: warning: ${m}\n`),
  });
}

async function runForeground(values: Record<string, unknown>): Promise<number> {
  const snapshotDir = values['ncs'] ? undefined : defaultSnapshotDir();
  let config: ServerConfig;
  try {
    config = configFrom(values, await configFile(values, snapshotDir));
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  const existing = await readState();
  if (existing && existing.pid !== process.pid && isAlive(existing.pid)) {
    return fail(`model-server is already running (pid ${existing.pid}); stop it first with "model-server stop"`);
  }
  const nodeArgs = gatewayNodeArgs(config);
  if (needsRelaunch(nodeArgs)) return relaunch(nodeArgs);
  // Loaded only here: a process that relaunched itself just waits, and should not hold the gateway's code.
  const { Gateway, createLogger } = await import('@model-server/gateway');
  const workflows = values['workflows'] as string[] | undefined;
  const gateway = await Gateway.start({ config, logger: createLogger(), models: values['models'] as string[] | undefined, snapshotDir, workflows });
  await writeState({ pid: process.pid, addresses: gateway.addresses, startedAt: new Date().toISOString() });
  process.stdout.write(
    `model-server ${gateway.version} started (pid ${process.pid})\n` +
      `  inference:  ${gateway.addresses.inference}\n  management: ${gateway.addresses.management}\n  metrics:    ${gateway.addresses.metrics}\n` +
      `  models:     ${gateway.registry.names().join(', ') || '(none)'}\n` +
      (gateway.tokens
        ? `  token authorization is on: ${gateway.tokens.keyFileWritten ? `keys in ${gateway.tokens.keyFile}` : 'configured keys'} (Authorization: Bearer <key>; --disable-token-auth to turn off)\n`
        : '  token authorization is off\n'),
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

async function ping(address: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${address}/ping`, { signal: AbortSignal.timeout(2000) });
    return res.status;
  } catch {
    return undefined;
  }
}

/** Starts the server in the background and returns once it answers /ping Healthy. */
async function runDetached(argv: string[], values: Record<string, unknown>): Promise<number> {
  const existing = await readState();
  if (existing && isAlive(existing.pid)) return fail(`model-server is already running (pid ${existing.pid})`);
  // The server's node flags come from its config; given here, the server needs no relaunch of its own.
  let nodeArgs: readonly string[];
  try {
    nodeArgs = gatewayNodeArgs(configFrom(values, await configFile(values, values['ncs'] ? undefined : defaultSnapshotDir())));
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  // The server outlives this command, so its output goes to a log file (TorchServe's LOG_LOCATION).
  const logDir = resolve(process.env['LOG_LOCATION'] ?? 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'model_server.log');
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, process.argv[1]!, 'start', ...argv, '--foreground'], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  const deadline = Date.now() + Number(values['start-timeout']) * 1000;
  while (Date.now() < deadline) {
    if (exited !== null) return fail(`server exited during start-up (code ${exited}); see ${logFile}`);
    const state = await readState();
    if (state && state.pid === child.pid && (await ping(state.addresses.inference)) === 200) {
      process.stdout.write(
        `model-server started (pid ${state.pid})\n  inference:  ${state.addresses.inference}\n` +
          `  management: ${state.addresses.management}\n  metrics:    ${state.addresses.metrics}\n  log:        ${logFile}\n`,
      );
      return 0;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return fail(`server did not become healthy in time; see ${logFile}`);
}

async function stop(): Promise<number> {
  const state = await readState();
  if (!state || !isAlive(state.pid)) {
    process.stdout.write('model-server is not running.\n');
    return 0;
  }
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
  await clearState(state.pid);
  process.stdout.write('model-server has stopped.\n');
  return 0;
}

async function status(): Promise<number> {
  const state = await readState();
  if (!state || !isAlive(state.pid)) {
    process.stdout.write('model-server is not running.\n');
    return 1;
  }
  const code = await ping(state.addresses.inference);
  process.stdout.write(
    `model-server is running (pid ${state.pid}, since ${state.startedAt})\n  inference: ${state.addresses.inference} ` +
      `(/ping: ${code === 200 ? 'Healthy' : code === undefined ? 'no answer' : 'Unhealthy'})\n`,
  );
  return code === 200 ? 0 : 1;
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'start': {
      let values;
      try {
        ({ values } = parseArgs({ args: rest, options: START_OPTIONS }));
      } catch (err) {
        return fail(`${(err as Error).message}\n${USAGE}`, 2);
      }
      return values.foreground ? runForeground(values) : runDetached(rest, values);
    }
    case 'stop':
      return stop();
    case 'status':
      return status();
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      return fail(`unknown command "${command}"\n${USAGE}`, 2);
  }
}

process.exitCode = await main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
