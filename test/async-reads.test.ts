// Asynchronous reads (Note [Reading values without stalling] in src/models/epoch-loop.ts):
// data()/array() on every backend; a backend without synchronous reads (a stand-in for a GPU:
// the reference backend whose download throws) refuses dataSync/arraySync/item with a message
// naming the portable read, and fit trains on it; fit reads the backend a few times per epoch,
// not per step; and it yields so a timer (a Stop button) can stop it at the end of a step.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend, DataHandle } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import type { DType, TypedArray } from '../src/core/dtype.js';
import * as st from '../src/index.js';
import { randomValues, withBackendAsync } from './helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, so the
// per-backend case runs there too.
await st.ready();
const BACKENDS = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);

interface Counting extends Backend {
  syncReads: number;
  asyncReads: number;
}

/** The reference backend, counting reads; with `readSync: false` it reads only asynchronously, like a GPU. */
function countingBackend(name: string, readSync: boolean): Counting {
  const reference = new ReferenceBackend();
  const backend = Object.create(reference) as Counting;
  return Object.assign(backend, {
    name,
    readSync,
    syncReads: 0,
    asyncReads: 0,
    download(data: DataHandle, dtype: DType, size: number): TypedArray {
      if (!readSync) throw new Error(`${name}: a synchronous read reached the backend`);
      backend.syncReads++;
      return reference.download(data, dtype, size);
    },
    async downloadAsync(data: DataHandle, dtype: DType, size: number): Promise<TypedArray> {
      backend.asyncReads++;
      const copy = reference.download(data, dtype, size);
      await new Promise((resolve) => setTimeout(resolve, 0)); // settles later, as a GPU's mapAsync
      return copy;
    },
  });
}

const noSync = countingBackend('test-no-sync', false);
st.registerBackend('test-no-sync', () => noSync, -100);
const counting = countingBackend('test-counting', true);
st.registerBackend('test-counting', () => counting, -100);

const L = st.layers;

function classifier(classes: number): st.Sequential {
  const m = st.sequential({
    layers: [L.dense({ units: 8, inputShape: [4], activation: 'relu' }), L.dense({ units: classes, activation: 'softmax' })],
  });
  m.compile({ optimizer: st.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

function data(n: number, classes: number, seed: number): { x: st.Tensor; y: st.Tensor } {
  const x = st.tensor(randomValues(n * 4, seed), [n, 4]);
  const y = st.tensor(randomValues(n, seed + 1, 0, classes).map(Math.floor), [n], 'int32');
  return { x, y };
}

describe('asynchronous reads', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: data() and array() give the values dataSync() and arraySync() give`, () =>
      withBackendAsync(backend, async () => {
        const x = st.tensor([
          [1, 2, 3],
          [4, 5, 6],
        ]);
        assert.deepEqual(Array.from(await x.data()), [1, 2, 3, 4, 5, 6]);
        assert.deepEqual(await x.array(), [
          [1, 2, 3],
          [4, 5, 6],
        ]);
        // Where the backend reads synchronously the two forms agree; where it cannot (webgpu), the
        // synchronous form refuses, naming the await form.
        if (st.getBackend().readSync === false) {
          assert.throws(
            () => x.arraySync(),
            (e: Error) => e instanceof st.ValueError && /await t\.array\(\)/.test(e.message),
          );
        } else assert.deepEqual(await x.array(), x.arraySync());
        assert.deepEqual(await st.tensor([true, false]).array(), [true, false]);
        assert.equal(await st.scalar(7, 'int32').array(), 7);
        assert.ok((await st.tensor([1.5], [1], 'int32').data()) instanceof Int32Array);
        const gone = st.tensor([1]);
        const pending = gone.data(); // the storage is taken when data() is called
        gone.dispose();
        assert.deepEqual(Array.from(await pending), [1]);
        await assert.rejects(gone.data(), (e: Error) => e instanceof st.ValueError && /after dispose/.test(e.message));
      }));
  }

  it('a metric updated many times without a read adds its waiting sums up on the backend', () => {
    const acc = st.metrics.binaryAccuracy();
    const mse = st.metrics.meanSquaredError();
    const yTrue = st.tensor([1, 0, 1, 1]),
      yPred = st.tensor([0.9, 0.2, 0.3, 0.8]),
      w = st.tensor([1, 2, 0.5, 1]);
    for (let i = 0; i < 600; i++) {
      acc.update(yTrue, yPred);
      mse.update(yTrue, yPred, w);
    }
    assert.equal(acc.result(), 0.75);
    const expected = (0.01 + 2 * 0.04 + 0.5 * 0.49 + 0.04) / 4.5;
    assert.ok(Math.abs(mse.result() - expected) < 1e-6, `${mse.result()} vs ${expected}`);
    acc.update(yTrue, yPred);
    acc.reset();
    assert.equal(acc.result(), 0);
  });

  it('a backend without synchronous reads refuses dataSync, arraySync and item, naming the await form', () =>
    withBackendAsync('test-no-sync', async () => {
      const x = st.tensor([1, 2, 3]);
      assert.throws(
        () => x.dataSync(),
        (e: Error) => e instanceof st.StrataError && /await t\.data\(\)/.test(e.message) && /test-no-sync/.test(e.message),
      );
      assert.throws(
        () => x.arraySync(),
        (e: Error) => e instanceof st.ValueError && /await t\.array\(\)/.test(e.message),
      );
      assert.throws(
        () => st.sum(x).item(),
        (e: Error) => e instanceof st.ValueError && /await t\.data\(\)/.test(e.message),
      );
      assert.deepEqual(Array.from(await st.mul(x, 2).data()), [2, 4, 6]);
      assert.deepEqual(await st.reshape(x, [3, 1]).array(), [[1], [2], [3]]);
      assert.match(String(x), /shape=\[3\].*await t\.array\(\)/);
      // A metric reads what its updates left on the backend only asynchronously there.
      const acc = st.metrics.sparseCategoricalAccuracy();
      acc.update(
        st.tensor([1, 0], undefined, 'int32'),
        st.tensor([
          [0.2, 0.8],
          [0.3, 0.7],
        ]),
      );
      assert.throws(
        () => acc.result(),
        (e: Error) => e instanceof st.ValueError && /resultAsync/.test(e.message),
      );
      assert.equal(await acc.resultAsync(), 0.5);
      assert.equal(acc.result(), 0.5); // settled: nothing left to read
    }));

  it('fit, evaluate and trainOnBatch run on a backend without synchronous reads; bad labels give a non-finite loss there', () =>
    withBackendAsync('test-no-sync', async () => {
      st.setSeed(3);
      const { x, y } = data(96, 3, 11);
      const m = classifier(3);
      const h = await m.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, validationSplit: 0.25 });
      assert.deepEqual(Object.keys(h.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
      assert.ok(h.history.loss.every(Number.isFinite) && h.history.accuracy.every((a) => a >= 0 && a <= 1));
      const logs = await m.evaluate(x, y, { verbose: 0 });
      assert.ok(Number.isFinite(logs.loss));
      assert.ok(Number.isFinite((await m.trainOnBatch(x, y)).loss));
      // Out-of-range labels in arrays are refused when fit reads them once, with the usual message.
      await assert.rejects(
        m.fit(x, st.tensor(new Array(96).fill(3), [96], 'int32'), { verbose: 0 }),
        (e: Error) => e instanceof st.ValueError && /class indices in \[0, 3\)/.test(e.message),
      );
      // The loss itself cannot read unchecked labels here: a bad one makes that sample's loss NaN.
      const loss = st.losses.sparseCategoricalCrossentropy(
        st.tensor([0, 5], [2], 'int32'),
        st.tensor([
          [0.5, 0.25, 0.25],
          [0.2, 0.3, 0.5],
        ]),
        {
          reduction: 'none',
        },
      );
      const values = await loss.data();
      assert.ok(Number.isFinite(values[0]) && Number.isNaN(values[1]));
      assert.equal(noSync.syncReads, 0);
    }));

  it('fit reads the backend a few times per epoch, not every step', () =>
    withBackendAsync('test-counting', async () => {
      const { x, y } = data(1600, 3, 21);
      const m = classifier(3);
      await m.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 }); // 100 steps; data checked once
      const before = counting.syncReads + counting.asyncReads;
      await m.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
      const reads = counting.syncReads + counting.asyncReads - before;
      // Per epoch: the loss and the metric every 64 steps and at the end; once, the checks of x and y.
      assert.ok(reads <= 16, `${reads} reads for 200 steps`);
      // A user callback with onBatchEnd gets numbers after every batch (read for it).
      let seen = 0;
      await m.fit(x, y, {
        epochs: 1,
        batchSize: 400,
        verbose: 0,
        callbacks: [
          { onBatchEnd: (_b: number, logs?: st.Logs) => void (seen += typeof logs?.loss === 'number' && typeof logs.accuracy === 'number' ? 1 : 0) },
        ],
      });
      assert.equal(seen, 4);
    }));

  it('a timer setting stopTraining while fit runs stops it at the end of the current step', async () => {
    const { x, y } = data(4096, 3, 31);
    const m = classifier(3);
    let steps = 0;
    let stoppedAt = -1;
    const counter = { onBatchBegin: () => void steps++ };
    const timer = setTimeout(() => {
      m.stopTraining = true;
      stoppedAt = steps;
    }, 50);
    const h = await m.fit(x, y, { epochs: 5, batchSize: 4, verbose: 0, callbacks: [counter] });
    clearTimeout(timer);
    assert.ok(stoppedAt > 0, 'the timer ran while fit was training');
    assert.equal(steps, stoppedAt, 'no step started after the flag was set');
    assert.ok(steps < 1024, `stopped inside the first epoch (after ${steps} of 1024 steps)`);
    assert.equal(h.epoch.length, 1);
    assert.equal(m.trainingPosition?.batch, steps);
  });
});
