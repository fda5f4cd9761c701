#!/usr/bin/env node
import { SERVER_VERSION } from '@model-server/gateway/launch';
import { UsageError, parseArgs } from './args.js';
import { HELP, USAGE, flagsOf } from './help.js';
import { fail, runDetached, runForeground } from './start.js';
import { showStatus, statusOptions } from './status-command.js';
import { collectStatus, formatStatus } from './status.js';
import { liveStates } from './state-file.js';
import { selectedServer, stop } from './stop.js';
import type { Values } from './config-lookup.js';

async function status(values: Values): Promise<number> {
  const options = statusOptions(values);
  if (typeof options === 'string') return fail(options, 2);
  if (values['all']) {
    const all = await liveStates();
    if (all.length === 0) process.stdout.write('No model-server is running.\n');
    for (const state of all) process.stdout.write(formatStatus(await collectStatus(state)));
    return all.length > 0 ? 0 : 1;
  }
  const state = await selectedServer(values, 1);
  if (typeof state === 'number') return state;
  // With --watch the live table alone, redrawn; once, the server and its workers, then the table.
  if (options.watch) return showStatus(state, options, 0);
  const report = await collectStatus(state);
  process.stdout.write(formatStatus(report));
  return showStatus(state, options, report.ping === 200 ? 0 : 1);
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv, flagsOf);
  } catch (err) {
    if (err instanceof UsageError) return fail(`${err.message}\n${USAGE}`, 2);
    throw err;
  }
  const { command, values } = parsed;
  switch (command) {
    case 'start': {
      // The flags as given (less the command, which the child is given as `start`), so a background
      // start hands its child the same ones.
      const flags = (argv[0] === 'start' ? argv.slice(1) : argv).filter((a) => a !== '--start');
      return values['foreground'] ? runForeground(values) : runDetached(flags, values);
    }
    case 'stop':
      return stop(values);
    case 'status':
      return status(values);
    case 'version':
      process.stdout.write(`model-server ${SERVER_VERSION}\n`);
      return 0;
    case 'help':
      if (parsed.helpFor && HELP[parsed.helpFor]) process.stdout.write(`${HELP[parsed.helpFor]}\n`);
      else process.stdout.write(`${USAGE}\n`);
      // `model-server` alone is a usage error, as before; an explicit --help is not.
      return argv.length === 0 ? 2 : 0;
  }
}

process.exitCode = await main(process.argv.slice(2)).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
