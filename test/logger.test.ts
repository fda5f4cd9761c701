import { describe, expect, it } from 'vitest';
import { formatLogLine } from '@model-server/gateway';

describe('readable log lines', () => {
  it('turns a pino JSON line into time, level, message and fields', () => {
    const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5, 678), pid: 1, msg: 'restarting a worker', model: 'mnist', delayMs: 1000 });
    expect(formatLogLine(line)).toBe('03:04:05.678 WARN  restarting a worker  model=mnist delayMs=1000\n');
  });

  it('passes through a line that is not JSON', () => {
    expect(formatLogLine('plain text')).toBe('plain text\n');
  });
});
