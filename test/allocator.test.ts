// Note [Caching allocator] (native/src/buffer.cc): freed blocks are reused for the same size,
// and when the cache is full the blocks freed longest ago make room, so sizes a program stopped
// using cannot hold the cache against the ones it uses now.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { NativeBackend } from '../src/backend/native/index.js';
import { getBackend } from '../src/backend/registry.js';
import { withBackend } from './helpers.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);

describe('the native caching allocator', { skip: !nativeAvailable && 'native backend not built' }, () => {
  const stats = () => (getBackend() as NativeBackend).allocatorStats();

  it('serves a freed size again from the cache', () => withBackend('native', () => {
    st.zeros([300, 400]).dispose();
    const before = stats();
    for (let i = 0; i < 10; i++) st.zeros([300, 400]).dispose();
    const after = stats();
    assert.equal(after.cacheHits - before.cacheHits, 10);
    assert.equal(after.cacheMisses, before.cacheMisses);
  }));

  it('after other blocks fill the cache, a size in use now still hits it', () => withBackend('native', () => {
    // 100 blocks of 3 MiB: more than the 256 MiB the cache keeps, so it is full to within one
    // block; a 4 MiB block then fits only if older blocks make room.
    Array.from({ length: 100 }, () => st.zeros([768, 1024])).forEach((t) => t.dispose());
    st.zeros([1024, 1024]).dispose();
    const before = stats();
    for (let i = 0; i < 20; i++) st.zeros([1024, 1024]).dispose();
    const after = stats();
    assert.equal(after.cacheHits - before.cacheHits, 20);
    assert.ok(after.cachedBytes <= 256 * 2 ** 20, `cache holds ${after.cachedBytes} bytes`);
  }));
});
