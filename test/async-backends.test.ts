// Backends that open asynchronously (Note [Backends that open asynchronously] in
// src/backend/registry.ts), with stand-ins for a GPU that opens and one that cannot: listed as
// not opened until `st.ready()` or `await st.setBackend(name)`, never the default, and a failure
// kept as the reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { registerAsyncBackend } from '../src/backend/registry.js';

const statusOf = (name: string) => st.backends().find((b) => b.name === name);

describe('asynchronously opened backends', () => {
  it('one that cannot open: listed as not opened, then unavailable with the reason; setBackend rejects with it', async () => {
    registerAsyncBackend('no-gpu-for-test', async () => Promise.reject(new Error('no adapter on this test machine')), 100);
    assert.match(statusOf('no-gpu-for-test')?.reason ?? '', /not opened yet: await st.setBackend\('no-gpu-for-test'\) or st.ready\(\)/);
    assert.notEqual(st.getBackend().name, 'no-gpu-for-test');
    await assert.rejects(st.setBackend('no-gpu-for-test'), /setBackend: backend 'no-gpu-for-test' is unavailable: no adapter on this test machine/);
    await st.ready();
    assert.equal(statusOf('no-gpu-for-test')?.available, false);
    assert.equal(statusOf('no-gpu-for-test')?.reason, 'no adapter on this test machine');
  });

  it('one that opens: available after ready(), switched to by setBackend, and not made the default by its priority', async () => {
    const reference = st.backends().find((b) => b.name === 'reference');
    assert.ok(reference?.available);
    let opened = 0;
    registerAsyncBackend(
      'late-for-test',
      async () => {
        opened++;
        await new Promise((r) => setTimeout(r, 5));
        // Storage and kernels are the reference backend's; only the name differs.
        const previous = st.getBackend().name;
        await st.setBackend('reference');
        const ref = st.getBackend();
        await st.setBackend(previous);
        return Object.assign(Object.create(ref), { name: 'late-for-test' });
      },
      1000,
    );
    await st.ready();
    assert.equal(statusOf('late-for-test')?.available, true);
    assert.notEqual(st.getBackend().name, 'late-for-test');
    const before = st.getBackend().name;
    await st.setBackend('late-for-test');
    try {
      assert.equal(st.tensor([1, 2]).backend.name, 'late-for-test');
      assert.deepEqual(Array.from(await st.add(st.tensor([1, 2]), 1).data()), [2, 3]);
    } finally {
      await st.setBackend(before);
    }
    assert.equal(opened, 1, 'opened once, however many times it is asked for');
  });
});
