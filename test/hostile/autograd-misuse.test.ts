// Issue 22, item 6 ("Autograd misuse"): calls that used to give wrong gradients without a word.
// backward() run twice over one graph doubled every .grad; a fractional label (1.5) for a
// sparse categorical loss was truncated to another class, directly and through fit. Each case
// runs on every available backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../../src/index.js';
import { withBackend, withBackendAsync, throwsWith, rejectsWith } from '../helpers.js';

const BACKENDS = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);

const grad = (w: st.Tensor) => Array.from(w.grad!.dataSync());
const SECOND_BACKWARD = [
  st.ValueError,
  /^backward: the graph behind this tensor was already used by a backward\(\) call that did not keep it/,
  /a second time/,
  /new forward pass/,
  /retainGraph: true/,
] as const;

for (const backend of BACKENDS) {
  describe(`backward() runs once per graph unless asked to keep it (${backend})`, () => {
    const on = (f: () => void) => () => withBackend(backend, f);
    // f(w) = sum(w * w * 3): df/dw = 6w.
    const f = (w: st.Tensor) => st.sum(st.mul(st.mul(w, w), 3));

    it(
      'a second backward() over the same graph is refused and leaves .grad as it was',
      on(() => {
        const w = st.variable(st.tensor([1, 2]));
        const loss = f(w);
        loss.backward();
        assert.deepEqual(grad(w), [6, 12]);
        throwsWith(() => loss.backward(), ...SECOND_BACKWARD);
        assert.deepEqual(grad(w), [6, 12], 'the refused call added nothing');
      }),
    );

    it(
      'a new forward pass builds a new graph: gradients accumulate across passes, as in PyTorch',
      on(() => {
        const w = st.variable(st.tensor([1, 2]));
        f(w).backward();
        f(w).backward();
        assert.deepEqual(grad(w), [12, 24]);
        w.zeroGrad();
        f(w).backward();
        assert.deepEqual(grad(w), [6, 12]);
      }),
    );

    it(
      '{retainGraph: true} keeps the graph for one more backward(), which then releases it',
      on(() => {
        const w = st.variable(st.tensor([1, 2]));
        const loss = f(w);
        loss.backward(undefined, { retainGraph: true });
        loss.backward(undefined, { retainGraph: true });
        loss.backward();
        assert.deepEqual(grad(w), [18, 36]);
        throwsWith(() => loss.backward(), ...SECOND_BACKWARD);
      }),
    );

    it(
      'a scalar output takes the options object as its only argument',
      on(() => {
        const w = st.variable(st.tensor([1, 2]));
        const loss = f(w);
        loss.backward({ retainGraph: true });
        st.backward(loss, { retainGraph: true });
        loss.backward();
        assert.deepEqual(grad(w), [18, 36]);
        throwsWith(
          () => f(w).backward({ retain_graph: true } as never),
          st.ValueError,
          /^backward: unknown option 'retain_graph'; expected one of: createGraph, retainGraph$/,
        );
        throwsWith(() => f(w).backward({ retainGraph: 'yes' } as never), st.ValueError, /retainGraph must be true or false; received "yes"/);
        throwsWith(() => f(w).backward([1, 2] as never), st.ValueError, /seed gradient must be a Tensor/, /received \[1,2\]/);
      }),
    );

    it(
      'a seed with retainGraph, for a non-scalar output',
      on(() => {
        const w = st.variable(st.tensor([1, 2]));
        const y = st.mul(w, 5);
        y.backward(st.onesLike(y), { retainGraph: true });
        y.backward(st.onesLike(y));
        assert.deepEqual(grad(w), [10, 10]);
        throwsWith(() => y.backward(st.onesLike(y)), ...SECOND_BACKWARD);
      }),
    );

    it(
      'part of a released graph is released too (a stale intermediate), as in PyTorch',
      on(() => {
        const w = st.variable(st.tensor([1, 2]));
        const h = st.mul(w, 2);
        st.sum(h).backward();
        throwsWith(() => st.sum(st.mul(h, 3)).backward(), ...SECOND_BACKWARD);
        const k = st.mul(w, 2);
        st.sum(k).backward({ retainGraph: true });
        st.sum(st.mul(k, 3)).backward();
        assert.deepEqual(grad(w), [2 + 2 + 6, 2 + 2 + 6]);
      }),
    );

    it(
      'createGraph keeps the graph (it defaults retainGraph), so second derivatives still work',
      on(() => {
        const w = st.variable(st.tensor([1, 2]));
        const loss = st.sum(st.mul(st.mul(w, w), w)); // d/dw = 3w², d²/dw² = 6w
        loss.backward(undefined, { createGraph: true });
        const g = w.grad!;
        w.zeroGrad();
        st.sum(g).backward();
        assert.deepEqual(grad(w), [6, 12]);
      }),
    );

    it(
      'a backward() that fails before running (no seed for a non-scalar) does not release the graph',
      on(() => {
        const w = st.variable(st.tensor([1, 2]));
        const y = st.mul(w, 4);
        throwsWith(() => y.backward(), st.ValueError, /non-scalar/);
        y.backward(st.onesLike(y));
        assert.deepEqual(grad(w), [4, 4]);
      }),
    );

    it(
      'st.grad, st.valueAndGrad and minimize do not touch the graph that backward() guards',
      on(() => {
        const w = st.variable(st.tensor([1, 2]));
        const df = st.grad((x) => f(x));
        assert.deepEqual(Array.from(df(w).dataSync()), [6, 12]);
        assert.deepEqual(Array.from(df(w).dataSync()), [6, 12]);
        const loss = f(w);
        loss.backward({ retainGraph: true });
        assert.deepEqual(
          Array.from(
            st
              .valueAndGrad((x) => st.sum(st.mul(x, 2)))(w)
              .grads[0].dataSync(),
          ),
          [2, 2],
        );
        const opt = st.optimizers.sgd({ learningRate: 0 });
        opt.minimize(() => f(w), [w]);
        opt.minimize(() => f(w), [w]);
        loss.backward();
        assert.deepEqual(grad(w), [12, 24]);
      }),
    );
  });

  describe(`sparse categorical labels must be whole class indices (${backend})`, () => {
    const on = (f: () => void) => () => withBackend(backend, f);
    const probs = () =>
      st.softmax(
        st.tensor([
          [1, 2, 3],
          [3, 2, 1],
        ]),
        -1,
      );
    const logits = () =>
      st.tensor([
        [1, 2, 3],
        [3, 2, 1],
      ]);
    const loss = st.losses.sparseCategoricalCrossentropy;
    const BAD_LABEL = (value: string, at: number) =>
      [
        st.ValueError,
        new RegExp(`^sparseCategoricalCrossentropy: labels must be class indices in \\[0, 3\\); received ${value} at sample ${at}$`),
      ] as const;

    it(
      'a fractional float label is refused, naming the first bad index and value',
      on(() => {
        throwsWith(() => loss(st.tensor([0.5, 1]), probs()), ...BAD_LABEL('0.5', 0));
        throwsWith(() => loss(st.tensor([0, 1.5]), logits(), { fromLogits: true }), ...BAD_LABEL('1.5', 1));
        throwsWith(() => loss([[0], [2.25]], probs()), ...BAD_LABEL('2.25', 1));
        throwsWith(() => loss(st.tensor([NaN, 0]), probs()), ...BAD_LABEL('NaN', 0));
      }),
    );

    it(
      'labels outside [0, classes) are ValueErrors on every path (the fused kernel included)',
      on(() => {
        throwsWith(() => loss(st.tensor([0, 3]), probs()), ...BAD_LABEL('3', 1));
        throwsWith(() => loss(st.tensor([-1, 0]), logits(), { fromLogits: true }), ...BAD_LABEL('-1', 0));
        throwsWith(() => loss(st.tensor([0, 3], [2], 'int32'), logits(), { fromLogits: true }), ...BAD_LABEL('3', 1));
        throwsWith(() => loss(st.tensor([7, 0], [2], 'int32'), probs()), ...BAD_LABEL('7', 0));
      }),
    );

    it(
      'whole-number float labels and int32 labels give the same loss',
      on(() => {
        const a = loss(st.tensor([2, 0]), logits(), { fromLogits: true }).item();
        const b = loss(st.tensor([2, 0], [2], 'int32'), logits(), { fromLogits: true }).item();
        const c = loss([[2], [0]], probs()).item();
        assert.ok(Math.abs(a - b) < 1e-6 && Math.abs(a - c) < 1e-5, `${a} ${b} ${c}`);
      }),
    );
  });

  describe(`fit checks sparse labels once, where it adapts its data (${backend})`, () => {
    const model = () => {
      const m = st.sequential({ layers: [st.layers.dense({ units: 3, inputShape: [2], activation: 'softmax' })] });
      m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
      return m;
    };
    const x = st.tensor([
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 0],
    ]);

    it('fit, evaluate and validationData refuse a fractional label before training', () =>
      withBackendAsync(backend, async () => {
        const m = model();
        const before = m.getWeights().map((w) => Array.from(w.dataSync()));
        await rejectsWith(
          () => m.fit(x, st.tensor([0, 1.5, 2, 0]), { epochs: 1, verbose: 0 }),
          st.ValueError,
          /^fit: y must hold class indices in \[0, 3\) for sparseCategoricalCrossentropy; received 1\.5 at index \[1\]$/,
        );
        assert.deepEqual(
          m.getWeights().map((w) => Array.from(w.dataSync())),
          before,
          'no step was taken',
        );
        await rejectsWith(() => m.fit(x, st.tensor([[0], [1], [2], [3]]), { epochs: 1, verbose: 0 }), st.ValueError, /received 3 at index \[3, 0\]/);
        await rejectsWith(
          () => m.evaluate(x, st.tensor([0, 1, 0.25, 0]), { verbose: 0 }),
          st.ValueError,
          /^evaluate: y must hold/,
          /received 0\.25 at index \[2\]/,
        );
        await rejectsWith(
          () => m.fit(x, st.tensor([0, 1, 2, 0]), { epochs: 1, verbose: 0, validationData: [x, st.tensor([0, 1, 2, 1.5])] }),
          st.ValueError,
          /^fit \(validationData\): y must hold/,
          /received 1\.5 at index \[3\]/,
        );
      }));

    it('whole-number float labels train, and cost no host read per step', () =>
      withBackendAsync(backend, async () => {
        // Count the backend's downloads (every host read goes through one) over fits of 1 and 3
        // epochs, with float and with int32 labels: the float labels may cost a fixed number of
        // reads (the finite check and the label check, once), not some per step. (The loss's own
        // reads on its composite path are there for both and cancel out.)
        const b = st.getBackend() as { download: (...a: never[]) => unknown };
        const original = b.download;
        let reads = 0;
        b.download = function (this: unknown, ...a: never[]) {
          reads++;
          return original.apply(this, a);
        };
        const readsOf = async (y: st.Tensor, epochs: number) => {
          const m = model();
          reads = 0;
          await m.fit(x, y, { epochs, batchSize: 1, shuffle: false, verbose: 0 });
          return reads;
        };
        try {
          const yFloat = st.tensor([0, 1, 2, 0]),
            yInt = st.tensor([0, 1, 2, 0], [4], 'int32');
          const extraShort = (await readsOf(yFloat, 1)) - (await readsOf(yInt, 1));
          const extraLong = (await readsOf(yFloat, 3)) - (await readsOf(yInt, 3));
          assert.equal(extraLong, extraShort, `float labels cost ${extraShort} extra reads over 4 steps but ${extraLong} over 12`);
        } finally {
          b.download = original;
        }
      }));
  });
}
