// The last Keras 3 and tfjs names of issue 23 handled together: the losses
// categoricalGeneralizedCrossEntropy and circle, unfold and fold, maxPoolWithArgmax. Fixtures
// come from scripts/make_keras_more_fixtures.py (PyTorch where it has the op, Keras 3.16.0's
// definitions written with torch ops where it does not) and are replayed on every available
// backend in float32 and on the reference backend in float64; float64 finite differences and
// Keras's own documented examples complete them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { loadFixture } from './fixture-harness.js';
import { assertClose, checkGradient, randomTensor, throwsWith, withBackend, withBackendAsync } from './helpers.js';

interface Arr {
  shape: number[];
  values: number[];
  dtype?: 'float' | 'int32';
}
interface Case {
  name: string;
  op: string;
  options: Record<string, unknown>;
  inputs: (Arr & { name: string; grad: boolean })[];
  output: Arr;
  weight: Arr;
  grads: Record<string, Arr>;
}
type Runner = (xs: st.Tensor[], o: Record<string, unknown>) => st.Tensor;
type LossFn = (t: st.Tensor, p: st.Tensor, o: object) => st.Tensor;
const loss =
  (name: keyof typeof st.losses): Runner =>
  ([t, p], o) =>
    (st.losses[name] as unknown as LossFn)(t, p, o);
const windowOptions = (o: Record<string, unknown>) => ({ dilation: o.dilation, padding: o.padding, stride: o.stride }) as st.FoldOptions;
const defined = (o: st.FoldOptions) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as st.FoldOptions;

const argmaxPool = (x: st.Tensor, o: Record<string, unknown>) =>
  st.maxPoolWithArgmax(
    x,
    o.filterSize as [number, number],
    o.strides as [number, number],
    o.pad as 'valid' | 'same' | number,
    o.includeBatchInIndex as boolean,
  );

const RUNNERS: Record<string, Runner> = {
  categoricalGeneralizedCrossEntropy: loss('categoricalGeneralizedCrossEntropy'),
  circle: loss('circle'),
  unfold: ([x], o) => st.unfold(x, o.kernelSize as number | [number, number], defined(windowOptions(o))),
  fold: ([x], o) => st.fold(x, o.outputSize as number | [number, number], o.kernelSize as number | [number, number], defined(windowOptions(o))),
  maxPoolWithArgmax: ([x], o) => argmaxPool(x, o).result,
  maxPoolWithArgmaxIndexes: ([x], o) => argmaxPool(x, o).indexes,
};

/** Replays one case: the output, then the gradient of sum(output * w) for each differentiable input. */
async function check(c: Case, dtype: 'float32' | 'float64', rtol: number, atol: number): Promise<void> {
  const float = (a: Arr) => st.cast(st.tensor(a.values, a.shape, 'float32'), dtype);
  const inputs = c.inputs.map((x) => (x.dtype === 'int32' ? st.tensor(x.values, x.shape, 'int32') : float(x)));
  const wrt = c.inputs.flatMap((x, i) => (x.grad ? [i] : []));
  let output: st.Tensor | undefined;
  const objective = (...vars: st.Tensor[]) => {
    const xs = inputs.slice();
    wrt.forEach((k, j) => (xs[k] = vars[j]));
    output = RUNNERS[c.op](xs, c.options);
    return st.sum(st.mul(output, float(c.weight)));
  };
  let grads: st.Tensor[] = [];
  if (wrt.length) grads = st.valueAndGrad(objective)(...wrt.map((k) => inputs[k])).grads;
  else objective(); // integer results: forward only
  const y = output!;
  assert.deepEqual([...y.shape], c.output.shape, `${c.name}: output shape`);
  if (c.output.dtype === 'int32') {
    assert.deepEqual(Array.from(await y.data()), c.output.values, `${c.name}: output`);
    return;
  }
  assertClose(Array.from(await y.data()), c.output.values, rtol, atol, `${c.name}: output`);
  for (const [j, k] of wrt.entries()) {
    const expected = c.grads[c.inputs[k].name];
    assert.deepEqual([...grads[j].shape], expected.shape, `${c.name}: gradient shape`);
    assertClose(Array.from(await grads[j].data()), expected.values, rtol, atol, `${c.name}: d/d${c.inputs[k].name}`);
  }
}

const { cases } = loadFixture<Case>('torch-keras-more.json');
await st.ready();
const available = st.backends().filter((b) => b.available);
for (const { name } of available) {
  const float64 = withBackend(name, () => st.getBackend().supportsDtype('float64'));
  describe(`fixtures on the ${name} backend`, () => {
    for (const c of cases) {
      // Circle with gamma 80 multiplies float32 rounding of the similarities by 80 inside exp.
      const loose = c.op === 'circle' && !/gamma/.test(c.name) ? 1e-3 : 1e-4;
      it(`${c.name} (float32)`, () => withBackendAsync(name, () => check(c, 'float32', loose, loose / 10)));
      if (float64) it(`${c.name} (float64)`, () => withBackendAsync(name, () => check(c, 'float64', 1e-9, 1e-10)));
    }
  });
}

describe('categoricalGeneralizedCrossEntropy', () => {
  it("Keras's documented example", () => {
    const yPred = st.tensor([
      [0.7, 0.3],
      [0.2, 0.8],
      [0.6, 0.4],
      [0.4, 0.6],
    ]);
    const expected = [0.7, 0.8, 0.6, 0.6].reduce((a, p) => a + (1 - Math.sqrt(p)) / 0.5, 0) / 4;
    assertClose(st.losses.categoricalGeneralizedCrossEntropy(st.tensor([0, 1, 0, 1], [4], 'int32'), yPred), [expected], 1e-6, 0);
    assert.equal(st.getLoss('categorical_generalized_cross_entropy').name, 'categoricalGeneralizedCrossEntropy');
  });
  it('float64 finite differences', () =>
    withBackend('reference', () => {
      const labels = st.tensor([2, 0, 1], [3], 'int32');
      checkGradient(
        (p) => st.losses.categoricalGeneralizedCrossEntropy(labels, p, { q: 0.3, reduction: 'none' }),
        [randomTensor([3, 4], 5, 'float64', 0.1, 0.9)],
      );
    }));
  it('refuses q outside (0, 1) and labels of the wrong shape', () => {
    const p = st.ones([2, 3]).div(3);
    throwsWith(
      () => st.losses.categoricalGeneralizedCrossEntropy([0, 1], p, { q: 1 }),
      st.ValueError,
      /q must be in the interval \(0, 1\); received 1/,
    );
    throwsWith(() => st.losses.categoricalGeneralizedCrossEntropy([0, 1, 2], p), st.ShapeError, /one class index per row/);
  });
});

describe('circle', () => {
  it('float64 finite differences (gamma 4)', () =>
    withBackend('reference', () => {
      const labels = st.tensor([0, 1, 0, 1, 2], [5], 'int32');
      const x = randomTensor([5, 3], 8, 'float64');
      const unit = x.div(st.sqrt(st.sum(st.square(x), 1, true)));
      checkGradient((e) => st.losses.circle(labels, e, { gamma: 4, reduction: 'none' }), [unit]);
    }));
  it('all labels distinct: no positives, a loss of 0 and a zero gradient', () => {
    const e = st.variable(
      st.tensor([
        [1, 0],
        [0, 1],
      ]),
    );
    const y = st.losses.circle([0, 1], e);
    assertClose(y, [0], 0, 0);
    y.backward();
    assertClose(e.grad!, [0, 0, 0, 0], 0, 0);
  });
  it('refuses labels that do not match the embeddings', () => {
    throwsWith(() => st.losses.circle([0, 1, 2], st.ones([2, 3])), st.ShapeError, /one label per embedding, shape \[2\]/);
    throwsWith(() => st.losses.circle([0, 1], st.ones([2, 3]), { margin: 0.1, scale: 2 } as object), st.ValueError, /unknown option 'scale'/);
  });
});

describe('unfold and fold', () => {
  it('fold(unfold(x)) counts how many windows cover each pixel', () => {
    const x = st.ones([1, 1, 3, 3]);
    assertClose(st.fold(st.unfold(x, 2), 3, 2), [1, 2, 1, 2, 4, 2, 1, 2, 1], 0, 0);
  });
  it('float64 finite differences', () =>
    withBackend('reference', () => {
      checkGradient((x) => st.unfold(x, [2, 3], { stride: [1, 2], padding: 1 }), [randomTensor([1, 2, 4, 5], 3, 'float64')]);
      checkGradient((c) => st.fold(c, [4, 5], 2, { stride: 2, padding: [1, 0] }), [randomTensor([1, 8, 6], 4, 'float64')]);
    }));
  it('refuses wrong ranks and sizes', () => {
    throwsWith(() => st.unfold(st.ones([2, 3, 4]), 2), st.ShapeError, /4-D \[N, C, H, W\]/);
    throwsWith(() => st.fold(st.ones([1, 8, 5]), 4, 2, { stride: 2 }), st.ShapeError, /\[N, C \* 4, 4\]/);
    throwsWith(() => st.unfold(st.ones([1, 1, 2, 2]), 3), st.ShapeError, /smaller than the 3x3 window/);
    throwsWith(() => st.unfold(st.ones([1, 1, 4, 4]), 2, { padding: -1 }), st.ValueError, /padding must be non-negative/);
  });
});

describe('maxPoolWithArgmax', () => {
  it('the documented example and the batch offset', () => {
    const x = st.tensor([1, 5, 3, 2, 4, 8, 7, 6, 0, 0, 0, 0, 0, 0, 9, 0], [2, 2, 2, 2]);
    const plain = st.maxPoolWithArgmax(x, 2, 2, 'valid');
    assertClose(plain.result, [7, 8, 9, 0], 0, 0);
    assert.deepEqual(Array.from(plain.indexes.dataSync()), [6, 5, 6, 1]);
    assert.equal(plain.indexes.dtype, 'int32');
    assert.deepEqual(Array.from(st.maxPoolWithArgmax(x, 2, 2, 'valid', true).indexes.dataSync()), [6, 5, 14, 9]);
  });
  it('refuses non-NHWC input and a padding a window could be made of', () => {
    throwsWith(() => st.maxPoolWithArgmax(st.ones([2, 3, 4]), 2, 2, 'valid'), st.ShapeError, /NHWC|4-D/);
    throwsWith(() => st.maxPoolWithArgmax(st.ones([1, 4, 4, 1]), 2, 2, 2), st.ValueError, /only padding/);
  });
});
