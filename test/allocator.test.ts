// Note [Caching allocator] (native/src/buffer.cc): freed blocks are reused for the same size,
// and when the cache is full the blocks freed longest ago make room, so sizes a program stopped
// using cannot hold the cache against the ones it uses now; what a finished phase used goes
// back to the system, and a steady loop keeps what it reuses.
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import type { NativeBackend } from '../src/backend/native/index.js';
import { getBackend } from '../src/backend/registry.js';
import { withBackend } from './helpers.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);

describe('the native caching allocator', { skip: !nativeAvailable && 'native backend not built' }, () => {
  const stats = () => (getBackend() as NativeBackend).allocatorStats();

  it('serves a freed size again from the cache', () =>
    withBackend('native', () => {
      st.zeros([300, 400]).dispose();
      const before = stats();
      for (let i = 0; i < 10; i++) st.zeros([300, 400]).dispose();
      const after = stats();
      assert.equal(after.cacheHits - before.cacheHits, 10);
      assert.equal(after.cacheMisses, before.cacheMisses);
    }));

  it('after other blocks fill the cache, a size in use now still hits it', () =>
    withBackend('native', () => {
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

  const MiB = 2 ** 20;
  const residentMiB = () => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;

  it('gives back the blocks of a finished phase once the program has moved on', () =>
    withBackend('native', () => {
      // A phase holding 96 MiB at once (an evaluation at a large batch, say), ...
      Array.from({ length: 48 }, () => st.ones([512, 1024])).forEach((t) => t.dispose());
      const held = stats().cachedBytes,
        releases = stats().cacheReleases,
        resident = residentMiB();
      assert.ok(held >= 90 * MiB, `the phase's blocks are cached: ${held / MiB} MiB`);
      // ... then a loop over 1 MiB blocks: once it has allocated a few times the largest recent
      // peak (the test above held 300 MiB), the cache is down to its floor of 32 MiB.
      let steps = 0;
      while (stats().cachedBytes > 33 * MiB && steps < 3000) {
        st.zeros([256, 1024]).dispose();
        steps++;
      }
      const after = stats();
      assert.ok(after.cachedBytes <= 33 * MiB, `cache holds ${after.cachedBytes / MiB} MiB after ${steps} MiB allocated`);
      assert.ok(after.cacheReleases - releases >= 28, `${after.cacheReleases - releases} blocks given back`);
      assert.ok(resident - residentMiB() >= 48, `resident ${resident.toFixed(0)} -> ${residentMiB().toFixed(0)} MiB`);
    }));

  it('keeps what a steady loop reuses, however long it runs', () =>
    withBackend('native', () => {
      const step = () => Array.from({ length: 4 }, () => st.zeros([512, 1024])).forEach((t) => t.dispose());
      step();
      const before = stats();
      for (let i = 0; i < 200; i++) step(); // 1.6 GiB allocated with 8 MiB at a time
      const after = stats();
      assert.equal(after.cacheMisses, before.cacheMisses);
      assert.equal(after.cacheHits - before.cacheHits, 800);
    }));

  it('keeps what one step asks for, beyond its peak: a forward pass that frees each activation once read', () =>
    withBackend('native', () => {
      const backend = getBackend() as NativeBackend;
      // 48 distinct sizes of 3 to 6 MiB, each freed before the next is made: at most 6 MiB in use,
      // 216 MiB asked for, far above the 32 MiB the peak rule alone would keep.
      const pass = () => {
        for (let i = 0; i < 48; i++) st.zeros([768 + 16 * i, 1024]).dispose();
        backend.afterBackward();
      };
      pass();
      pass();
      const before = stats();
      pass();
      const after = stats();
      assert.equal(after.cacheMisses - before.cacheMisses, 0, 'every block of the third pass came from the cache');
      assert.equal(after.cacheHits - before.cacheHits, 48);
      assert.ok(after.cacheLimit >= 256 * MiB && after.cacheLimit <= 2 * 2 ** 30, `ceiling ${after.cacheLimit / MiB} MiB`);
    }));

  it('gives back, within a few training steps, the sizes no gradient computation asks for any more', () =>
    withBackend('native', () => {
      const backend = getBackend() as NativeBackend;
      Array.from({ length: 24 }, () => st.ones([512, 1024])).forEach((t) => t.dispose()); // 2 MiB blocks
      assert.ok(stats().cachedBytes >= 48 * MiB);
      // Steps of a loop that asks only for 1 MiB blocks: eight gradient computations later, the
      // 2 MiB blocks are gone however little the loop allocated meanwhile.
      for (let step = 0; step < 8; step++) {
        st.ones([256, 1024]).dispose();
        backend.afterBackward();
      }
      assert.ok(stats().cachedBytes <= 2 * MiB, `cache holds ${stats().cachedBytes / MiB} MiB`);
      st.ones([256, 1024]).dispose();
      const before = stats();
      st.ones([256, 1024]).dispose();
      assert.equal(stats().cacheHits - before.cacheHits, 1, 'the size in use stays cached');
    }));
});
