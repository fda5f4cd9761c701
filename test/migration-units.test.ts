import { describe, expect, it } from 'vitest';
import { didYouMean, parsePbtxt, translateJvmFlag } from '@model-server/gateway';

describe('didYouMean', () => {
  it.each([
    ['inference_adress', ['inference_address', 'management_address'], 'inference_address'],
    ['batchsize', ['batchSize', 'maxBatchDelay'], 'batchSize'],
    ['batch_size', ['batchSize'], 'batchSize'],
    ['--model-stor', ['--model-store', '--models'], '--model-store'],
    ['maxWokers', ['maxWorkers', 'minWorkers'], 'maxWorkers'],
  ])('suggests %s -> %s', (word, known, expected) => {
    expect(didYouMean(word, known)).toBe(expected);
  });

  it.each([
    ['NUM_WORKERS', ['inference_address', 'job_queue_size']],
    ['xyz', ['batchSize']],
    ['batchSize', ['batchSize']],
  ])('suggests nothing for %s', (word, known) => {
    expect(didYouMean(word, known)).toBeUndefined();
  });
});

describe('translateJvmFlag', () => {
  it.each([
    ['-Xmx4g', '--max-old-space-size=4096'],
    ['-Xmx512m', '--max-old-space-size=512'],
    ['-Xmx1536M', '--max-old-space-size=1536'],
    ['-Xss1m', '--stack-size=1024'],
    ['-XX:+HeapDumpOnOutOfMemoryError', '--heapsnapshot-near-heap-limit=1'],
    ['-verbose:gc', '--trace-gc'],
  ])('%s -> %s', (flag, node) => {
    expect(translateJvmFlag(flag).node).toBe(node);
  });

  it.each(['-Xms1g', '-XX:+UseG1GC', '-XX:MaxRAMPercentage=75', '-Dfoo=bar', '-XX:-UseLargePages'])('%s has no node flag, and says why', (flag) => {
    const t = translateJvmFlag(flag);
    expect(t.node).toBeUndefined();
    expect(t.note).toMatch(/\w/);
  });
});

describe('parsePbtxt (Triton config.pbtxt)', () => {
  it('reads fields, messages, lists, repeated fields, comments and strings', () => {
    const config = parsePbtxt(`
      name: "resnet" # a comment
      platform: 'onnxruntime_onnx'
      max_batch_size: 8
      dynamic_batching: { preferred_batch_size: [ 4, 8 ], max_queue_delay_microseconds: 100 }
      instance_group [ { count: 2, kind: KIND_CPU }, { count: 1 kind: KIND_GPU } ]
      input { name: "a\\"b" dims: [ -1, 3 ] }
      input { name: "c"; reshape: { shape: [ ] } }
      optimization { execution_accelerators { cpu_execution_accelerator: [ { name: "openvino" } ] } }
      flag: true
    `);
    expect(config).toEqual({
      name: 'resnet',
      platform: 'onnxruntime_onnx',
      max_batch_size: 8,
      dynamic_batching: { preferred_batch_size: [4, 8], max_queue_delay_microseconds: 100 },
      instance_group: [{ count: 2, kind: 'KIND_CPU' }, { count: 1, kind: 'KIND_GPU' }],
      input: [{ name: 'a"b', dims: [-1, 3] }, { name: 'c', reshape: { shape: [] } }],
      optimization: { execution_accelerators: { cpu_execution_accelerator: [{ name: 'openvino' }] } },
      flag: true,
    });
  });

  it.each([
    ['max_batch_size 8', /line 1: expected ":" or "\{" after max_batch_size/],
    ['dynamic_batching {\n  preferred_batch_size: [4\n', /unexpected end of file/],
    ['name: "open', /line 1: unterminated string/],
    ['a: 1\nb: @', /line 2: unexpected character "@"/],
  ])('refuses %j with the line', (text, message) => {
    expect(() => parsePbtxt(text)).toThrow(message);
  });
});
