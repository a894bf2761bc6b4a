// The webgpu backend compiles kernels asynchronously and records the work that needs them until
// they exist (Note [Pipelines compiled asynchronously] in src/backend/webgpu/gpu-queue.ts): the
// recorded order must survive the wait, and nothing may reuse a buffer the waiting work reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { randomValues, withBackendAsync } from './helpers.js';
import { webgpuSkip } from './webgpu-helpers.js';

type Counters = { dispatches: number; deferred: number; pipelines: number; submits: number };
type GpuBackend = { counters(): Counters; flush(): void };

const gpu = () => st.getBackend() as unknown as GpuBackend;

/** A row count no other test uses, so the transpose kernel below is compiled afresh. */
let rows = 3001;
const freshRows = () => (rows += 7);

/** x transposed on the host: the expected values. */
function transposed(values: ArrayLike<number>, r: number, c: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) out.push(values[i * c + j]);
  return out;
}

describe('webgpu pipelines compiled asynchronously', { skip: webgpuSkip }, () => {
  it('a new kernel is compiled without blocking, and its work runs once it exists', () =>
    withBackendAsync('webgpu', async () => {
      const n = freshRows();
      const host = Float32Array.from(randomValues(n * 5, 1, -1, 1));
      const x = st.tensor(host, [n, 5]);
      const before = gpu().counters();
      const y = st.transpose(x);
      const after = gpu().counters();
      assert.equal(after.pipelines - before.pipelines, 1, 'one new kernel');
      assert.equal(after.deferred - before.deferred, 1, 'its dispatch waits for it');
      assert.deepEqual(Array.from(await y.data()), transposed(host, n, 5));
      // Compiled now: the same kernel again goes straight into the pass.
      const again = gpu().counters();
      const z = st.transpose(x);
      assert.equal(gpu().counters().deferred, again.deferred);
      assert.deepEqual(Array.from(await z.data()), transposed(host, n, 5));
    }));

  it('work recorded behind a compiling kernel keeps its order, even work whose kernel is ready', () =>
    withBackendAsync('webgpu', async () => {
      const n = freshRows();
      const host = Float32Array.from(randomValues(n * 4, 2, -1, 1));
      const x = st.tensor(host, [n, 4]);
      st.transpose(st.tensor(host, [4, n])).dispose(); // a kernel for [4, n] is compiled from here on
      await st.tensor([0]).data();
      const y = st.transpose(x); // new: waits
      const yy = st.transpose(y); // ready ([4, n]), but must run after y is written
      assert.deepEqual(Array.from(await yy.data()), Array.from(host));
    }));

  it('a submit while work waits does not let an upload overwrite a buffer the waiting work reads', () =>
    withBackendAsync('webgpu', async () => {
      const n = freshRows();
      const host = Float32Array.from(randomValues(n * 3, 3, -1, 1));
      const x = st.tensor(host, [n, 3]);
      const ready = st.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      await st.transpose(ready).data(); // compiled from here on
      const early = st.transpose(ready); // recorded into the open pass at once
      const y = st.transpose(x); // waits for its kernel, reading x's buffer
      x.dispose(); // x's buffer goes back to the pool while y still waits to read it
      gpu().flush(); // the step's submit: must not count as submitting y's dispatch
      // Uploads of x's size: had the pool been told that x's reader was submitted, one of them
      // would take x's buffer and write these values before y's kernel reads it.
      const others = Array.from({ length: 4 }, (_, k) => st.tensor(new Float32Array(n * 3).fill(100 + k), [n, 3]));
      assert.deepEqual(Array.from(await y.data()), transposed(host, n, 3));
      assert.deepEqual(Array.from(await early.data()), [1, 4, 2, 5, 3, 6]);
      for (const o of others) o.dispose();
    }));

  it('a training step records every kernel before any compiles, and trains as before', () =>
    withBackendAsync('webgpu', async () => {
      const model = st.sequential({
        layers: [st.layers.dense({ units: 13, activation: 'relu', inputShape: [7] }), st.layers.dense({ units: 3 })],
      });
      model.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.1 }), loss: 'meanSquaredError' });
      const xs = st.tensor(randomValues(37 * 7, 4, -1, 1), [37, 7], 'float32');
      const ys = st.tensor(randomValues(37 * 3, 5, -1, 1), [37, 3], 'float32');
      const before = gpu().counters();
      const first = (await model.trainOnBatch(xs, ys)).loss;
      const after = gpu().counters();
      assert.ok(after.deferred - before.deferred > 0, 'the first step waited for its kernels');
      let loss = first;
      for (let i = 0; i < 20; i++) loss = (await model.trainOnBatch(xs, ys)).loss;
      assert.ok(Number.isFinite(loss) && loss < first, `loss fell: ${first} -> ${loss}`);
    }));
});
