// The losses of issue 23 beyond their PyTorch fixtures: Keras's reduction names, lookup by Keras
// name and use in compile/fit, the identities Keras's documentation states between losses, edge
// cases (zero vectors, huge errors, impossible CTC alignments) and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, randomValues, throwsWith, withBackendAsync } from './helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first so the
// check across backends covers them; it reads with `await t.data()`, which every backend has.
await st.ready();

type LossFn = (t: st.Tensor | number[][], p: st.Tensor | number[][], o?: object) => st.Tensor;
const loss = (name: keyof typeof st.losses) => st.losses[name] as unknown as LossFn;
const rand = (shape: number[], seed: number, lo = -1, hi = 1) =>
  st.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
      lo,
      hi,
    ),
    shape,
  );
const NEW_LOSSES = [
  'hinge',
  'squaredHinge',
  'categoricalHinge',
  'logCosh',
  'poisson',
  'cosineSimilarity',
  'meanSquaredLogarithmicError',
  'meanAbsolutePercentageError',
  'binaryFocalCrossentropy',
  'categoricalFocalCrossentropy',
  'dice',
  'tversky',
] as const;

describe("Keras's reduction names", () => {
  const t = rand([4, 3], 1, 0, 1),
    p = rand([4, 3], 2, 0.1, 0.9);
  it('are accepted by every loss, old and new', () => {
    for (const name of [...NEW_LOSSES, 'meanSquaredError', 'binaryCrossentropy', 'huber'] as const) {
      const f = loss(name);
      const mean = f(t, p, { reduction: 'mean' }).item();
      assertClose(f(t, p, { reduction: 'sum_over_batch_size' }), [mean], 1e-6, 0, name);
      assertClose(f(t, p, { reduction: 'mean_with_sample_weight' }), [mean], 1e-6, 0, name);
      assertClose(f(t, p), [mean], 1e-6, 0, name);
      assert.deepEqual(f(t, p, { reduction: null }).shape, f(t, p, { reduction: 'none' }).shape);
    }
  });
  it('an unknown one is refused, naming the choices', () => {
    throwsWith(() => loss('hinge')(t, p, { reduction: 'auto' }), st.ValueError, /reduction must be one of 'sum_over_batch_size'/);
  });
});

describe('lookup by Keras name and training', () => {
  it('getLoss finds each new loss by its snake_case name and the short aliases', () => {
    const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    for (const name of [...NEW_LOSSES, 'ctc']) assert.equal(st.getLoss(snake(name)).name, name);
    assert.equal(st.getLoss('MAPE').name, 'mape');
    assertClose(st.getLoss('msle').fn(st.ones([2, 2]), st.ones([2, 2]).mul(2)), [Math.log(3 / 2) ** 2], 1e-6, 0);
  });

  it('a model compiled with a new loss by name trains it down', async () => {
    // withBackendAsync: the backend stays switched until fit's promise settles.
    await withBackendAsync('reference', async () => {
      st.setSeed(3);
      const m = st.sequential({ layers: [st.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
      m.compile({ optimizer: st.optimizers.adam({ learningRate: 0.05 }), loss: 'categorical_focal_crossentropy' });
      const x = rand([32, 4], 5);
      const y = st.oneHot(st.argMax(x.slice([0, 0], [32, 3]), 1), 3);
      const h = await m.fit(x, y, { epochs: 15, batchSize: 8, verbose: 0 });
      const losses = h.history.loss as number[];
      assert.ok(losses[losses.length - 1] < 0.6 * losses[0], `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
    });
  });
});

describe('identities and edge cases', () => {
  const labels = st.tensor([
      [1, 0, 1, 1],
      [0, 0, 1, 0],
    ]),
    probs = rand([2, 4], 7, 0.05, 0.95);
  it('the focal losses with gamma 0 are the cross-entropies (scaled by alpha)', () => {
    assertClose(loss('binaryFocalCrossentropy')(labels, probs, { gamma: 0 }), loss('binaryCrossentropy')(labels, probs), 1e-6, 0);
    const oneHot = st.tensor([
      [0, 1, 0, 0],
      [0, 0, 0, 1],
    ]);
    assertClose(loss('categoricalFocalCrossentropy')(oneHot, probs, { gamma: 0, alpha: 1 }), loss('categoricalCrossentropy')(oneHot, probs), 1e-6, 0);
  });
  it('tversky with alpha = beta = 1/2 is dice', () => {
    assertClose(loss('tversky')(labels, probs), loss('dice')(labels, probs), 1e-6, 0);
    assertClose(loss('tversky')(labels, probs, { axis: 1, reduction: 'none' }), loss('dice')(labels, probs, { axis: 1, reduction: 'none' }), 1e-6, 0);
    assert.equal(loss('dice')(labels, probs, { reduction: 'none' }).rank, 0);
  });
  it('hinge takes {0, 1} labels as {-1, 1} and leaves other labels alone', () => {
    const p = st.tensor([[0.3, -0.6]]);
    assertClose(loss('hinge')([[1, 0]], p), [(0.7 + 0.4) / 2], 1e-6, 0);
    assertClose(loss('hinge')([[1, -1]], p), [(0.7 + 0.4) / 2], 1e-6, 0);
    assertClose(loss('hinge')([[0.5, 0]], p), [(0.85 + 1) / 2], 1e-6, 0);
  });
  it('logCosh stays finite for huge errors; cosineSimilarity of a zero vector is 0 with a finite gradient', () => {
    assertClose(loss('logCosh')([[0]], [[1000]]), [1000 - Math.LN2], 1e-6, 0);
    const p = st.variable(
      st.tensor([
        [0, 0, 0],
        [1, 2, 2],
      ]),
    );
    const y = loss('cosineSimilarity')(
      st.tensor([
        [1, 0, 0],
        [2, 4, 4],
      ]),
      p,
      { reduction: 'none' },
    );
    assertClose(y, [0, -1], 1e-6, 1e-7);
    y.sum().backward();
    assert.ok(Array.from(p.grad!.dataSync()).every(Number.isFinite));
  });
  it('losses refuse mismatched shapes and unknown options', () => {
    throwsWith(() => loss('poisson')(st.ones([2, 3]), st.ones([3, 2])), st.ShapeError, /one shape/);
    throwsWith(() => loss('tversky')(st.ones([2]), st.ones([2]), { gamma: 1 }), st.ValueError, /unknown option 'gamma'/);
  });
});

describe('ctc', () => {
  it('one frame, one label: -log softmax of that label', () => {
    const logits = st.tensor([[[0.2, 1.3, -0.4]]]);
    const expected = -(1.3 - Math.log(Math.exp(0.2) + Math.exp(1.3) + Math.exp(-0.4)));
    assertClose(st.losses.ctc(st.tensor([[1, 0]], [1, 2], 'int32'), logits, { reduction: 'none' }), [expected], 1e-6, 0);
  });
  it('labels that cannot fit the frames give Infinity; blanks among the labels are refused', () => {
    const logits = rand([1, 2, 3], 9);
    // "1 1" needs three frames (a blank between the repeats).
    assertClose(st.losses.ctc(st.tensor([[1, 1]], [1, 2], 'int32'), logits, { reduction: 'none' }), [Infinity], 0, 0);
    throwsWith(() => st.ctcLoss(st.tensor([[0, 1]], [1, 2], 'int32'), logits, [2], [2], 0), st.ValueError, /other than the blank/);
    throwsWith(() => st.ctcLoss(st.tensor([[1, 1]], [1, 2], 'int32'), logits, [2], [3], 0), st.ValueError, /outputLength/);
  });
  const backends = st.backends().filter((b) => b.available);
  it(`runs on every backend (${backends.map((b) => b.name).join(', ')}) with the same numbers`, async () => {
    const labels = st.tensor(
      [
        [1, 2, 2, 0],
        [3, 1, 0, 0],
      ],
      [2, 4],
      'int32',
    );
    const x = randomValues(2 * 8 * 4, 11, -2, 2);
    const results: number[][] = [];
    for (const b of backends) {
      results.push(
        await withBackendAsync(b.name, async () => Array.from(await st.losses.ctc(labels, st.tensor(x, [2, 8, 4]), { reduction: 'none' }).data())),
      );
    }
    for (const [i, r] of results.entries()) assertClose(r, results[0], 1e-5, 1e-6, backends[i].name);
  });
});
