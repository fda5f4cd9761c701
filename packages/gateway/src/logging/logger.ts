import { Writable } from 'node:stream';
import pino from 'pino';
import { LOG_FILE_ENV } from './log-file-env.js';
import { RotatingFile, type RotationOptions } from './rotating-file.js';

export type Logger = pino.Logger;

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, left out of the readable form. */
const SKIPPED = new Set(['level', 'time', 'pid', 'msg', 'hostname']);

/** One JSON log line as `HH:MM:SS.mmm LEVEL message key=value …`, for a person at a terminal. */
export function formatLogLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return `${json}\n`;
  }
  const time = new Date(Number(entry['time'] ?? Date.now())).toISOString().slice(11, 23);
  const level = (LEVEL_NAMES[Number(entry['level'])] ?? String(entry['level'])).padEnd(5);
  const fields = Object.entries(entry)
    .filter(([k]) => !SKIPPED.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level} ${String(entry['msg'] ?? '')}${fields ? `  ${fields}` : ''}\n`;
}

/** A stream that rewrites pino's JSON lines readably before they reach the terminal. */
function readableStderr(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done): void {
      const text = chunk.toString('utf8');
      process.stderr.write(text.split('\n').filter((l) => l !== '').map(formatLogLine).join(''));
      done();
    },
  });
}

export { LOG_FILE_ENV };
const DEFAULT_ROTATION: RotationOptions = { maxBytes: 100 * 1024 * 1024, maxFiles: 5 };

/**
 * The gateway's logger, level from LOG_LEVEL (default info): JSON lines on stderr for log collectors,
 * or readable lines when stderr is a terminal (LOG_FORMAT=json|text forces either). When
 * MODEL_SERVER_LOG_FILE names a file (a server started in the background), JSON lines go there
 * instead, rotated like TorchServe's log files (`rotation`: log_max_file_size, log_max_files).
 */
export function createLogger(level = process.env['LOG_LEVEL'] ?? 'info', rotation: RotationOptions = DEFAULT_ROTATION): Logger {
  const file = process.env[LOG_FILE_ENV];
  if (file) return pino({ level, base: { pid: process.pid } }, new RotatingFile(file, rotation).destination);
  const format = process.env['LOG_FORMAT'] ?? (process.stderr.isTTY ? 'text' : 'json');
  const destination = format === 'text' ? readableStderr() : pino.destination(2);
  return pino({ level, base: { pid: process.pid } }, destination);
}
