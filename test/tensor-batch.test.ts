import { describe, expect, it } from 'vitest';
import { Tensor, concatTensors, splitTensor } from '@model-server/sdk';

describe('batch stacking', () => {
  it('stacks requests along dimension 0 and splits outputs back by each request’s rows', () => {
    const a = new Tensor('float32', new Float32Array([1, 2, 3]), [1, 3]);
    const b = new Tensor('float32', new Float32Array([4, 5, 6, 7, 8, 9]), [2, 3]);
    const stacked = concatTensors([a, b]);
    expect(stacked.dims).toEqual([3, 3]);
    expect(Array.from(stacked.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [x, y] = splitTensor(stacked, [1, 2]);
    expect(x!.dims).toEqual([1, 3]);
    expect(Array.from(y!.data as Float32Array)).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it('keeps the element type, strings included', () => {
    const s = concatTensors([new Tensor('string', ['a'], [1, 1]), new Tensor('string', ['b', 'c'], [2, 1])]);
    expect(s.data).toEqual(['a', 'b', 'c']);
    const i = concatTensors([new Tensor('int64', new BigInt64Array([1n]), [1]), new Tensor('int64', new BigInt64Array([2n]), [1])]);
    expect(i.type).toBe('int64');
    expect(Array.from(i.data as BigInt64Array)).toEqual([1n, 2n]);
  });

  it('refuses tensors whose other dimensions or types differ', () => {
    expect(() => concatTensors([new Tensor('float32', new Float32Array(3), [1, 3]), new Tensor('float32', new Float32Array(4), [1, 4])])).toThrow(/cannot stack/);
    expect(() => concatTensors([new Tensor('float32', new Float32Array(3), [1, 3]), new Tensor('int32', new Int32Array(3), [1, 3])])).toThrow(/cannot stack/);
    expect(() => splitTensor(new Tensor('float32', new Float32Array(6), [2, 3]), [1, 2])).toThrow(/cannot split/);
  });
});
