// Note [Collecting dead tensors between steps] (src/backend/native/dead-tensors.ts): the pacing
// rule with a fake collector, and a synchronous custom training loop on the native backend whose
// dead activations and gradients must not pile up until V8 happens to collect.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { COLLECT_AFTER_BYTES, DeadTensorCollector } from '../src/backend/native/dead-tensors.js';
import { getBackend } from '../src/backend/registry.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);
const MB = 2 ** 20;

describe('collecting dead tensors between training steps', () => {
  it('collects only after the held bytes grew by the threshold, then starts again from what is left', () => {
    let held = 10 * MB;
    const calls: string[] = [];
    // The fake collection frees all but 12 MB, as a scavenge frees a loop's dead tensors.
    const pacer = new DeadTensorCollector(
      () => held,
      () => (o) => {
        calls.push(o.type);
        held = 12 * MB;
      },
    );
    assert.equal(pacer.afterBackward(), false, 'baseline 0, 10 MB held: below the threshold');
    held = COLLECT_AFTER_BYTES - 1;
    assert.equal(pacer.afterBackward(), false);
    held = COLLECT_AFTER_BYTES + 1;
    assert.equal(pacer.afterBackward(), true);
    assert.deepEqual(calls, ['minor']);
    held = 12 * MB + COLLECT_AFTER_BYTES - 1;
    assert.equal(pacer.afterBackward(), false, 'measured from the 12 MB left after the collection');
    held = 2 * MB; // a loop that disposes lowers the baseline
    pacer.afterBackward();
    held = 2 * MB + COLLECT_AFTER_BYTES;
    assert.equal(pacer.afterBackward(), true);
    assert.equal(calls.length, 2);
  });

  it('runs a full collection when a scavenge gives back too little (dead handles promoted to the old generation)', () => {
    let held = COLLECT_AFTER_BYTES + 10 * MB;
    const calls: string[] = [];
    // The scavenge frees 5 MB only; the full collection frees the rest.
    const pacer = new DeadTensorCollector(
      () => held,
      () => (o) => {
        calls.push(o.type);
        held = o.type === 'minor' ? held - 5 * MB : 3 * MB;
      },
    );
    assert.equal(pacer.afterBackward(), true);
    assert.deepEqual(calls, ['minor', 'major']);
    held = 3 * MB + COLLECT_AFTER_BYTES - 1;
    assert.equal(pacer.afterBackward(), false, 'measured from the 3 MB left after the full collection');
  });

  it('does nothing when no collector is available', () => {
    const pacer = new DeadTensorCollector(
      () => 10 * COLLECT_AFTER_BYTES,
      () => null,
    );
    assert.equal(pacer.afterBackward(), false);
  });

  /** Runs f on the native backend and counts the collections its gradient computations triggered. */
  async function countingCollections(f: () => void | Promise<void>): Promise<number> {
    const previous = st.getBackend().name;
    st.setBackend('native');
    const backend = getBackend() as { afterBackward(): boolean };
    const pace = backend.afterBackward;
    let collections = 0;
    backend.afterBackward = () => {
      const collected = pace.call(backend);
      if (collected) collections++;
      return collected;
    };
    try {
      await f();
    } finally {
      backend.afterBackward = pace;
      st.setBackend(previous);
    }
    return collections;
  }

  it('does not collect in fit, which disposes what each step makes', { skip: !nativeAvailable && 'native backend not built' }, async () => {
    const fitted = await countingCollections(async () => {
      const model = st.sequential({
        layers: [st.layers.dense({ units: 512, activation: 'relu', inputShape: [784] }), st.layers.dense({ units: 10 })],
      });
      model.compile({ optimizer: 'rmsprop', loss: st.losses.sparseCategoricalCrossentropy });
      await model.fit(
        st.randomUniform([6400, 784]),
        st.tensor(
          new Int32Array(6400).map((_, i) => i % 10),
          [6400],
          'int32',
        ),
        { epochs: 2, batchSize: 64, verbose: 0 },
      );
    });
    // 200 steps of about 2 MB each: a loop leaving them to the garbage collector would collect 6 times.
    assert.ok(fitted <= 1, `${fitted} collections in fit`);
  });

  it('collects in loops through optimizer.minimize too', { skip: !nativeAvailable && 'native backend not built' }, async () => {
    const minimized = await countingCollections(() => {
      const w = st.variable(st.randomNormal([1024, 1024], { stddev: 0.01 }));
      const x = st.randomUniform([256, 1024]);
      const opt = st.optimizers.adam({ learningRate: 1e-3 });
      for (let step = 0; step < 60; step++) opt.minimize(() => st.mean(st.square(st.matmul(x, w))), [w]);
    });
    assert.ok(minimized >= 5, `${minimized} collections in 60 minimize steps`);
  });

  it('keeps the memory a synchronous custom loop holds bounded (native)', { skip: !nativeAvailable && 'native backend not built' }, async () => {
    let peak = 0;
    const collections = await countingCollections(() => {
      {
        const w = st.variable(st.randomNormal([1024, 1024], { stddev: 0.01 }));
        const x = st.randomUniform([256, 1024]);
        const opt = st.optimizers.sgd({ learningRate: 1e-3 });
        const held = () => st.memory().native.bytes;
        const start = held();
        // Each step leaves about 11 MB of dead tensors (activations, gradients) and never
        // yields: 240 steps, 2.6 GB in all. Without the collections this loop held up to 350 MB
        // here; with them it stays within two to three thresholds (a collection cannot take the
        // step in progress, nor what a scavenge of V8's own promoted to the old generation, which
        // varies with the machine's load: 193 MB, three thresholds, in some CI runs).
        for (let step = 0; step < 240; step++) {
          w.zeroGrad();
          st.mean(st.square(st.relu(st.matmul(x, w)))).backward();
          opt.applyGradients([{ variable: w, grad: w.grad! }]);
          peak = Math.max(peak, held() - start);
        }
      }
    });
    assert.ok(collections >= 20, `${collections} collections`);
    assert.ok(peak < 3.5 * COLLECT_AFTER_BYTES, `held native memory grew by ${(peak / MB).toFixed(0)} MB`);
  });
});
