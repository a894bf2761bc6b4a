// Note [Bounded primitive cache] (native/src/dnnl_util.h): oneDNN primitives are kept per shape
// up to a bound, the least recently used going first, and st.memory() reports how many are kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import type { NativeBackend } from '../src/backend/native/index.js';
import { getBackend } from '../src/backend/registry.js';
import { assertClose, randomTensor, withBackend } from './helpers.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);

describe('the native primitive cache', { skip: !nativeAvailable && 'native backend not built' }, () => {
  const native = () => withBackend('native', () => getBackend()) as NativeBackend;
  let capacity = 0;
  before(() => {
    capacity = native().primitiveCacheStats().capacity;
  });
  after(() => native().setPrimitiveCacheCapacity(capacity));

  // A product whose every row count is a new shape, checked against plain arithmetic.
  const product = (rows: number) =>
    withBackend('native', () => {
      const a = st.ones([rows, 8]),
        b = st.mul(st.ones([8, 3]), 0.5);
      const y = st.matmul(a, b);
      assert.deepEqual(y.shape, [rows, 3]);
      assertClose(y, new Array(rows * 3).fill(4));
    });

  it('keeps its size at the bound however many shapes come, and reports it in st.memory()', () => {
    native().setPrimitiveCacheCapacity(16);
    const start = native().primitiveCacheStats();
    for (let rows = 1; rows <= 60; rows++) product(rows);
    const end = native().primitiveCacheStats();
    assert.equal(end.entries, 16);
    assert.ok(end.evictions - start.evictions >= 60 - 16, `evicted ${end.evictions - start.evictions}`);
    assert.deepEqual(st.memory().native.primitiveCache, { entries: 16, capacity: 16 });
    assert.equal(typeof st.memory().native.cachedBytes, 'number');
  });

  it('drops the least recently used entry, and rebuilds an evicted one that comes back', () => {
    native().setPrimitiveCacheCapacity(4);
    for (const rows of [101, 102, 103, 104]) product(rows);
    product(101); // used again: now the most recent
    const misses = native().primitiveCacheStats().misses;
    product(105); // evicts 102, the least recently used
    product(101);
    assert.equal(native().primitiveCacheStats().misses - misses, 1, '101 stayed');
    product(102);
    assert.equal(native().primitiveCacheStats().misses - misses, 2, '102 was rebuilt');
  });

  it('gives the same convolution results after its primitives were evicted and rebuilt', () =>
    withBackend('native', () => {
      native().setPrimitiveCacheCapacity(2);
      const x = randomTensor([2, 9, 9, 16], 3, 'float32'),
        f = randomTensor([3, 3, 16, 16], 4, 'float32');
      const first = st.conv2d(x, f, { padding: 'same' }).dataSync();
      for (let n = 1; n <= 4; n++) st.conv2d(st.ones([n, 5, 5, 16]), f, { padding: 'valid' }).dispose();
      assertClose(st.conv2d(x, f, { padding: 'same' }), Array.from(first), 0, 0);
    }));

  it('keys primitives by the thread count: a convolution made for 2 threads is not reused after setNumThreads(1)', () =>
    withBackend('native', () => {
      native().setPrimitiveCacheCapacity(64);
      const threads = st.getNumThreads();
      const x = randomTensor([4, 9, 9, 16], 5, 'float32'),
        f = randomTensor([3, 3, 16, 32], 6, 'float32');
      const misses = () => native().primitiveCacheStats().misses;
      try {
        st.setNumThreads(2);
        const two = st.conv2d(x, f).dataSync();
        const before = misses();
        st.setNumThreads(1);
        const one = st.conv2d(x, f).dataSync();
        assert.equal(misses() - before, 1, 'a new primitive for one thread');
        st.conv2d(x, f).dispose();
        st.setNumThreads(2);
        st.conv2d(x, f).dispose();
        assert.equal(misses() - before, 1, 'both kept, each found again');
        assertClose(st.tensor(Array.from(one)), Array.from(two), 1e-5, 1e-5);
      } finally {
        st.setNumThreads(threads);
      }
    }));

  it('refuses a bound below one', () => {
    assert.throws(() => native().setPrimitiveCacheCapacity(0), st.ValueError);
  });
});
