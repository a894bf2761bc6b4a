// Inference without the garbage collector's help: a model's intermediates are freed as the graph
// runs (Note [Intermediates freed as the graph runs] in src/models/graph.ts), and the native
// backend keeps convolution filters reordered for its kernels without ever using a stale copy
// (Note [Reordered filters kept] in native/src/weight_cache.h).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend, withBackendAsync } from './helpers.js';
import { collectGarbage } from './collect-garbage.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);
const tensor = (shape: number[], seed: number) =>
  st.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

/** x * scale, remembering every tensor it returned: a window on what the graph runner frees. */
class Tap extends st.Layer {
  static readonly className = 'TapForTest';
  readonly made: st.Tensor[] = [];
  constructor(readonly scale = 1) {
    super({} as st.LayerArgs & Record<string, unknown>, []);
  }
  call(inputs: st.Tensor | st.Tensor[]): st.Tensor {
    const y = st.mul(inputs as st.Tensor, this.scale);
    this.made.push(y);
    return y;
  }
}

/** Returns its input itself, as dropout does at inference. */
class Same extends st.Layer {
  static readonly className = 'SameForTest';
  constructor() {
    super({} as st.LayerArgs & Record<string, unknown>, []);
  }
  call(inputs: st.Tensor | st.Tensor[]): st.Tensor {
    return inputs as st.Tensor;
  }
}

for (const backend of st.backends().filter((b) => b.available && b.name !== 'webgpu')) {
  describe(`inference on the ${backend.name} backend`, () => {
    it('a functional model frees each value once its readers have run, when nothing is recorded; outputs, inputs and weights stay', () => {
      withBackend(backend.name, () => {
        // input -> a -> same(a) -> b; c = a + b (a read twice, once through a layer returning it);
        // outputs: d = dense(c) and b itself (an output that is also read).
        const taps = [new Tap(2), new Tap(3), new Tap(0.5)];
        const input = st.layers.input({ shape: [4] });
        const a = taps[0].apply(input) as st.SymbolicTensor;
        const same = new Same().apply(a) as st.SymbolicTensor;
        const b = taps[1].apply(same) as st.SymbolicTensor;
        const c = taps[2].apply(st.layers.add().apply([a, b]) as st.SymbolicTensor) as st.SymbolicTensor;
        const d = st.layers.dense({ units: 2 }).apply(c) as st.SymbolicTensor;
        const model = st.model({ inputs: input, outputs: [d, b] });
        const x = tensor([3, 4], 1);
        const recorded = model.apply(x) as unknown as st.Tensor[]; // gradients on: every value stays for a backward pass
        assert.ok(taps.every((t) => !t.made[0].isDisposed));
        const outs = st.noGrad(() => model.apply(x) as unknown as st.Tensor[]);
        const [aNow, bNow, cNow] = taps.map((t) => t.made[1]);
        assert.equal(aNow.isDisposed, true, 'a, read by same() and the add, is freed');
        assert.equal(cNow.isDisposed, true, 'c, read by the dense layer, is freed');
        assert.equal(bNow.isDisposed, false, 'b is an output');
        assert.equal(outs[1], bNow);
        assert.equal(x.isDisposed, false, "the caller's input stays");
        assert.ok(
          model.weights.every((w) => !w.value.isDisposed),
          'weights stay',
        );
        outs.forEach((o, i) => assertClose(o, recorded[i], 1e-6, 1e-6, `output ${i}`));
        assertClose(st.noGrad(() => model.apply(x) as unknown as st.Tensor[])[0], outs[0], 0, 0, 'a second run');
      });
    });

    it('a sequential model frees each layer output once the next layer has read it', () => {
      withBackend(backend.name, () => {
        const taps = [new Tap(2), new Tap(3)];
        const model = st.sequential({
          layers: [st.layers.dense({ units: 3, inputShape: [4] }), taps[0], new Same(), taps[1], st.layers.dense({ units: 2 })],
        });
        const x = tensor([2, 4], 2);
        const recorded = model.apply(x) as st.Tensor;
        const out = st.noGrad(() => model.apply(x) as st.Tensor);
        assert.ok(taps.every((t) => t.made[1].isDisposed));
        assert.ok(
          taps.every((t) => !t.made[0].isDisposed),
          'with gradients on, nothing is freed',
        );
        assertClose(out, recorded, 1e-6, 1e-6);
        assert.equal(x.isDisposed, false);
      });
    });
  });
}

describe('reordered filters on the native backend', { skip: !nativeAvailable && 'native backend not built' }, () => {
  it('are kept across predictions, never used after the filter changes in place, and go with the filter', async () => {
    await withBackendAsync('native', async () => {
      const reordered = () => st.memory().native.reorderedFilters!;
      const start = reordered();
      const model = st.sequential({
        layers: [
          st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 16] }),
          st.layers.flatten(),
          st.layers.dense({ units: 4 }),
        ],
      });
      model.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.5 }), loss: 'meanSquaredError' });
      const x = tensor([4, 12, 12, 16], 3),
        y = tensor([4, 4], 4);
      // The oracle: the same network on the reference backend, from the native weights' values.
      const onReference = () => {
        // Each snapshot is disposed at once: a second owner of the filter's storage would make the
        // optimizer write a new buffer instead of updating it in place.
        const [k, b, w, c] = model.getWeights().map((t) => {
          const copy = st.tensor(t.dataSync(), [...t.shape]);
          t.dispose();
          return copy;
        });
        return withBackend('reference', () => {
          const xr = st.tensor(x.dataSync(), [...x.shape]);
          const h = st.reshape(st.relu(st.add(st.conv2d(xr, k), b)), [4, -1]);
          return Array.from(st.add(st.matmul(h, w), c).dataSync());
        });
      };
      // A variable's first update writes a new buffer (its initial storage may be shared); from
      // then on the update writes in place (Note [Updates in place] in src/optimizers/optimizer.ts).
      await model.trainOnBatch(x, y);
      const first = model.predict(x) as st.Tensor;
      assertClose(first, onReference(), 1e-4, 1e-4, 'first prediction');
      assert.ok(reordered().entries > start.entries, 'the conv filter is kept in its reordered layout');
      const kept = reordered();
      assertClose(model.predict(x) as st.Tensor, first, 0, 0, 'second prediction, from the kept copy');
      assert.equal(reordered().entries, kept.entries);
      // One SGD step writes the filter in place (Note [Updates in place]); the next prediction
      // must see the new values, not the kept copy of the old ones.
      const filter = model.weights[0].value as unknown as { storage: object };
      const storage = filter.storage;
      await model.trainOnBatch(x, y);
      assert.equal(filter.storage, storage, 'the filter was updated in place');
      const after = model.predict(x) as st.Tensor;
      assert.ok(Math.max(...Array.from(st.abs(st.sub(after, first)).dataSync())) > 1e-3, 'the step changed the prediction');
      assertClose(after, onReference(), 1e-4, 1e-4, 'prediction after a step');
      // Freed with the model's weights. The filter's first storage (replaced by the first update,
      // which could not write in place) goes when the garbage collector finds its last tensor dead,
      // and its copy with it: a full collection and a turn of the event loop first, so the count
      // does not depend on when V8 happened to collect (CI once saw one copy left).
      for (const w of model.weights) w.value.dispose();
      for (let i = 0; i < 2; i++) {
        collectGarbage();
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(reordered().entries, start.entries);
    });
  });
});
