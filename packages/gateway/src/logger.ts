import pino from 'pino';

export type Logger = pino.Logger;

/** The gateway's logger: JSON lines on stderr, level from LOG_LEVEL (default info). */
export function createLogger(level = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination(2));
}
