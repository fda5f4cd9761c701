import { describe, expect, it } from 'vitest';
import { loadServerConfig, parseProperties, resolveModelSettings } from '@model-server/gateway';

describe('config.properties', () => {
  it('parses comments, separators, continuations and $$ENV$$ references', () => {
    const text = ['# comment', '! also a comment', 'a=1', 'b : two', 'c = long \\', '   value', 'd=$$HOME_DIR$$/x', ''].join('\n');
    expect(parseProperties(text, { HOME_DIR: '/h' })).toEqual({ a: '1', b: 'two', c: 'long value', d: '/h/x' });
  });

  it('applies defaults, then the file, then flags; and freezes the result', () => {
    const config = loadServerConfig({ overrides: { job_queue_size: '7' } });
    expect(config.job_queue_size).toBe(7);
    expect(config.inference_address).toBe('http://127.0.0.1:8080');
    expect(config.max_request_size).toBe(6_553_500);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names the key of a bad value', () => {
    expect(() => loadServerConfig({ overrides: { max_request_size: '-3' } })).toThrow(/max_request_size/);
    expect(() => loadServerConfig({ overrides: { inference_address: 'localhost' } })).toThrow(/inference_address/);
  });
});

describe('model-config.yaml', () => {
  const server = loadServerConfig({});

  it('reads TorchServe keys with TorchServe defaults', () => {
    const s = resolveModelSettings({ batchSize: 4, maxBatchDelay: 20, minWorkers: 2 }, server, 'm.yaml');
    expect(s).toMatchObject({ batchSize: 4, maxBatchDelayMs: 20, minWorkers: 2, maxWorkers: 2, responseTimeoutMs: 120_000, jobQueueSize: 100 });
  });

  it("accepts Triton's batching vocabulary, TorchServe's keys winning when both are set", () => {
    const triton = resolveModelSettings({ max_batch_size: 16, max_queue_delay_microseconds: 3000, preferred_batch_size: [4, 8], max_queue_size: 50 }, server, 'm.yaml');
    expect(triton).toMatchObject({ batchSize: 16, maxBatchDelayMs: 3, preferredBatchSizes: [8, 4], jobQueueSize: 50 });
    const both = resolveModelSettings({ batchSize: 2, max_batch_size: 16, maxBatchDelay: 7, max_queue_delay_microseconds: 3000 }, server, 'm.yaml');
    expect(both).toMatchObject({ batchSize: 2, maxBatchDelayMs: 7 });
  });

  it('names the file and key of a bad value', () => {
    expect(() => resolveModelSettings({ batchSize: 0 }, server, 'mnist.mar/model-config.yaml')).toThrow(/mnist\.mar\/model-config\.yaml.*batchSize/);
  });
});
