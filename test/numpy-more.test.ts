// The keras.ops composites of issue 23's second round and st.sparsemax against
// test/fixtures/numpy-more.json (scripts/make_numpy_more_fixtures.py: PyTorch where it has the op,
// a reference from the definition where it does not): values and the gradient of sum(y * w), in
// float32 on every backend and float64 on the reference backend; then float64 finite differences
// on the reference backend for the differentiable ones, the activations by name, and the errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns, loadFixture } from './fixture-harness.js';
import { rt } from './grad-check.js';
import { assertClose, checkGradient, throwsWith, withBackend, withBackendAsync } from './helpers.js';

interface Arr {
  shape: number[];
  values: (number | string)[];
  dtype?: 'float' | 'int32';
}
interface Input extends Arr {
  name: string;
  dtype: 'float' | 'int32';
  grad: boolean;
}
interface Case {
  name: string;
  op: string;
  options: Record<string, unknown>;
  inputs: Input[];
  output: Arr;
  weight: Arr;
  grads: Record<string, Arr>;
}
type Runner = (xs: st.Tensor[], o: Record<string, unknown>, dtype: st.DType) => st.Tensor;

const num = (v: number | string) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number));
const asInt = (t: st.Tensor) => st.cast(t, 'int32');
const unary =
  (f: (x: st.Tensor) => st.Tensor): Runner =>
  ([x]) =>
    f(x);
const binary =
  (f: (a: st.Tensor, b: st.Tensor) => st.Tensor): Runner =>
  ([a, b]) =>
    f(a, b);
const axisOnly =
  (f: (x: st.Tensor, axis?: number) => st.Tensor): Runner =>
  ([x], o) =>
    f(x, o.axis as number | undefined);
// Empty segments are ±Infinity, which JSON cannot hold: the fixture writes them as 0.
const finite = (t: st.Tensor) => st.where(st.isInf(t), 0, t);

const RUNNERS: Record<string, Runner> = {
  sparsemax: ([x], o) => st.sparsemax(x, o.axis as number),
  cbrt: unary(st.cbrt),
  deg2rad: unary(st.deg2rad),
  rad2deg: unary(st.rad2deg),
  heaviside: binary(st.heaviside),
  sinc: unary(st.sinc),
  ldexp: binary(st.ldexp),
  logaddexp2: binary(st.logaddexp2),
  fmod: binary(st.fmod),
  gcd: binary(st.gcd),
  lcm: binary(st.lcm),
  signbit: ([x]) => asInt(st.signbit(x)),
  isclose: ([a, b], o) => asInt(st.isclose(a, b, o)),
  allclose: ([a, b], o) => asInt(st.allclose(a, b, o)),
  nanToNum: ([x], o) => st.nanToNum(x, o),
  isin: ([x, t]) => asInt(st.isin(x, t)),
  append: ([a, b], o) => st.append(a, b, o.axis as number | undefined),
  diagflat: ([x], o) => st.diagflat(x, o.k as number),
  diff: ([x], o) => st.diff(x, o.n as number, o.axis as number),
  digitize: ([x, bins], o) => st.digitize(x, bins, o.right as boolean),
  kron: binary(st.kron),
  repeat: ([x], o) => st.repeat(x, o.repeats as number, o.axis as number | undefined),
  rot90: ([x], o) => st.rot90(x, o.k as number, o.axes as [number, number]),
  tri: (_, o, dtype) => st.tri(o.n as number, o.m as number, o.k as number, dtype as 'float32'),
  vander: ([x], o) => st.vander(x, o.n as number | undefined, o.increasing as boolean | undefined),
  cross: ([a, b], o) => st.cross(a, b, o.axis as number | undefined),
  trapezoid: ([y, x], o) => st.trapezoid(y, x, o.dx as number | undefined),
  select: ([c1, c2, a, b]) => st.select([st.greater(c1, 0), st.greater(c2, 0)], [a, b], -1),
  unravelIndex: ([i], o) => st.unravelIndex(i, o.shape as number[])[o.part as number],
  ptp: axisOnly(st.ptp),
  logspace: (_, o, dtype) =>
    st.logspace(o.start as number, o.stop as number, o.num as number, {
      endpoint: o.endpoint as boolean | undefined,
      base: o.base as number | undefined,
      dtype: dtype as 'float32',
    }),
  geomspace: (_, o, dtype) => st.geomspace(o.start as number, o.stop as number, o.num as number, { dtype: dtype as 'float32' }),
  quantile: ([x], o) =>
    st.quantile(x, o.q as number, {
      axis: o.axis as number | undefined,
      method: o.method as st.QuantileMethod | undefined,
      keepDims: o.keepDims as boolean | undefined,
    }),
  percentile: ([x], o) => st.percentile(x, o.q as number, { axis: o.axis as number | undefined }),
  median: ([x], o) => st.median(x, { axis: o.axis as number | undefined }),
  nanquantile: ([x], o) => st.nanquantile(x, o.q as number, { axis: o.axis as number | undefined }),
  nanpercentile: ([x], o) => st.nanpercentile(x, o.q as number, { axis: o.axis as number | undefined }),
  nanmedian: ([x], o) => st.nanmedian(x, { axis: o.axis as number | undefined }),
  nansum: axisOnly(st.nansum),
  nanmean: axisOnly(st.nanmean),
  nanprod: axisOnly(st.nanprod),
  nanvar: axisOnly(st.nanvar),
  nanstd: axisOnly(st.nanstd),
  nanmax: axisOnly(st.nanmax),
  nanmin: axisOnly(st.nanmin),
  nancumsum: axisOnly(st.nancumsum),
  nancumprod: axisOnly(st.nancumprod),
  nanargmax: axisOnly(st.nanargmax),
  nanargmin: axisOnly(st.nanargmin),
  multiHot: ([x], o) => asInt(st.multiHot(x, o.numClasses as number)),
  l2Normalize: ([x], o) => st.l2Normalize(x, o),
  cdist: ([a, b], o) => st.cdist(a, b, o.p === 'inf' ? Infinity : (o.p as number)),
  erfinv: unary(st.erfinv),
  psnr: ([a, b], o) => st.psnr(a, b, o.maxVal as number),
  segmentMax: ([x, ids], o) => finite(st.segmentMax(x, ids, o.numSegments as number | undefined)),
  segmentMin: ([x, ids], o) => finite(st.segmentMin(x, ids, o.numSegments as number | undefined)),
  segmentProd: ([x, ids], o) => st.segmentProd(x, ids, o.numSegments as number | undefined),
  sliceUpdate: ([x, u], o) => st.sliceUpdate(x, o.start as number[], u),
  corrcoef: unary(st.corrcoef),
  correlate: ([a, v], o) => st.correlate(a, v, o.mode as st.CorrelateMode),
  histogram: ([x], o, dtype) => {
    const { counts, edges } = st.histogram(x, o.bins as number, o.range as [number, number] | undefined);
    return o.part === 'counts' ? counts : st.cast(edges, dtype);
  },
  argpartition: ([x], o) => st.argpartition(x, o.kth as number),
  rearrange: ([x], o) => st.rearrange(x, o.pattern as string, o.lengths as Record<string, number>),
};

const { cases } = loadFixture<Case>('numpy-more.json');
// float32 tolerances: erfinv near ±1 and psnr's log amplify one rounding; the rest are a few ulps.
const runs = await fixtureRuns({ rtol: 1e-4, atol: 1e-5 });

async function replay(c: Case, dtype: st.DType, rtol: number, atol: number): Promise<void> {
  const run = RUNNERS[c.op];
  assert.ok(run, `no runner for '${c.op}'`);
  const floatTensor = (a: Arr) => st.cast(st.tensor(a.values.map(num), a.shape, 'float32'), dtype);
  const inputs = c.inputs.map((x) => (x.dtype === 'int32' ? st.tensor(x.values.map(num), x.shape, 'int32') : floatTensor(x)));
  const wrt = c.inputs.flatMap((x, i) => (x.grad ? [i] : []));
  const weight = floatTensor(c.weight);
  let output: st.Tensor | undefined;
  const objective = (...vars: st.Tensor[]) => {
    const xs = inputs.slice();
    wrt.forEach((k, j) => (xs[k] = vars[j]));
    output = run(xs, c.options, dtype);
    return st.sum(st.mul(st.cast(output, dtype), weight));
  };
  let grads: st.Tensor[] = [];
  if (wrt.length && c.output.dtype !== 'int32') grads = st.valueAndGrad(objective)(...wrt.map((k) => inputs[k])).grads;
  else objective();
  const y = output!;
  assert.deepEqual([...y.shape], c.output.shape, `${c.name}: output shape`);
  if (c.output.dtype === 'int32') {
    assert.equal(y.dtype, 'int32', `${c.name}: dtype`);
    assert.deepEqual(Array.from(await y.data()), c.output.values, `${c.name}: output`);
    return;
  }
  assertClose(Array.from(await y.data()), c.output.values.map(num), rtol, atol, `${c.name}: output`);
  for (const [j, k] of wrt.entries()) {
    const expected = c.grads[c.inputs[k].name];
    assertClose(Array.from(await grads[j].data()), expected.values.map(num), rtol, atol, `${c.name}: d/d${c.inputs[k].name}`);
  }
}

for (const run of runs) {
  describe(`keras.ops composites on ${run.backend} (${run.dtype})`, () => {
    for (const c of cases) {
      it(c.name, () => withBackendAsync(run.backend, () => replay(c, run.dtype, run.rtol, run.atol)));
    }
  });
}

describe('keras.ops composites: float64 finite differences (reference backend)', () => {
  // Inputs are made inside the test, on the reference backend (float64 lives there).
  const check = (what: string, f: (...xs: st.Tensor[]) => st.Tensor, inputs: () => st.Tensor[]) =>
    it(what, () => withBackend('reference', () => checkGradient(f, inputs(), { what, rtol: 1e-6, atol: 1e-8 })));
  // Distinct values keep sorts, maxima and supports away from ties.
  const spread = (shape: number[], seed: number, scale = 1) => st.mul(rt(shape, seed), scale);
  check(
    'sparsemax',
    (x) => st.sparsemax(x),
    () => [spread([3, 6], 1, 2)],
  );
  check(
    'sparsemax axis 0',
    (x) => st.sparsemax(x, 0),
    () => [spread([5, 2], 2, 3)],
  );
  check(
    'cbrt',
    (x) => st.cbrt(x),
    () => [st.add(rt([6], 3, 0.2, 2), 0)],
  );
  check(
    'sinc',
    (x) => st.sinc(x),
    () => [rt([7], 4, -3, 3)],
  );
  check(
    'logaddexp2',
    (a, b) => st.logaddexp2(a, b),
    () => [rt([5], 5, -4, 4), rt([5], 6, -4, 4)],
  );
  check(
    'fmod (in its first argument)',
    (a) => st.fmod(a, st.tensor([1.3, -1.7, 2.1, 0.9], undefined, 'float64')),
    () => [rt([4], 7, -0.8, 0.8)],
  );
  check(
    'kron',
    (a, b) => st.kron(a, b),
    () => [rt([2, 2], 8), rt([2, 3], 9)],
  );
  check(
    'vander',
    (x) => st.vander(x, 4),
    () => [rt([3], 10)],
  );
  check(
    'cross',
    (a, b) => st.cross(a, b),
    () => [rt([2, 3], 11), rt([2, 3], 12)],
  );
  check(
    'trapezoid with x',
    (y, x) => st.trapezoid(y, x),
    () => [rt([2, 5], 13), st.tensor([0, 0.4, 1.1, 1.5, 2.6], undefined, 'float64')],
  );
  check(
    'quantile linear',
    (x) => st.quantile(x, [0.3, 0.8], { axis: 1 }),
    () => [spread([3, 5], 14)],
  );
  check(
    'nanstd',
    (x) => st.nanstd(st.where(st.greater(x, 0.8), NaN, x), 1),
    () => [rt([3, 5], 15)],
  );
  check(
    'l2Normalize',
    (x) => st.l2Normalize(x),
    () => [rt([3, 4], 16)],
  );
  check(
    'cdist p 2 and 3',
    (a, b) => st.add(st.cdist(a, b), st.cdist(a, b, 3)),
    () => [rt([3, 2], 17), rt([4, 2], 18)],
  );
  check(
    'erfinv',
    (x) => st.erfinv(x),
    () => [rt([6], 19, -0.95, 0.95)],
  );
  check(
    'psnr',
    (a, b) => st.psnr(a, b, 2),
    () => [rt([2, 3], 20), rt([2, 3], 21)],
  );
  check(
    'segmentMax',
    (x) => st.segmentMax(x, st.tensor([1, 0, 1, 1], undefined, 'int32'), 2),
    () => [spread([4, 2], 22)],
  );
  check(
    'rot90, repeat, diagflat, diff',
    (x) => st.add(st.sum(st.rot90(st.repeat(x, [2, 1], 0))), st.sum(st.mul(st.diagflat(st.diff(x)), 1.5))),
    () => [rt([2, 3], 23)],
  );
});

describe('keras.ops composites: activations by name and errors', () => {
  it('the newer Keras activations are registered by name', () =>
    withBackend('reference', () => {
      const x = st.tensor([[-2, -0.3, 0.4, 1.5]], undefined, 'float64');
      for (const [name, op] of [
        ['sparsemax', (t: st.Tensor) => st.sparsemax(t)],
        ['hard_shrink', (t: st.Tensor) => st.hardShrink(t)],
        ['soft_shrink', (t: st.Tensor) => st.softShrink(t)],
        ['celu', (t: st.Tensor) => st.celu(t)],
        ['squareplus', (t: st.Tensor) => st.squareplus(t)],
        ['sparse_plus', st.sparsePlus],
        ['sparse_sigmoid', st.sparseSigmoid],
        ['tanh_shrink', st.tanhShrink],
        ['hard_tanh', st.hardTanh],
        ['glu', (t: st.Tensor) => st.glu(t)],
      ] as const) {
        const activation = st.getActivation(name);
        assertClose(activation.apply(x), op(x), 0, 0, name);
        assert.equal(st.getActivation(st.serializeActivation(activation)).name, activation.name);
      }
      const layer = st.layers.dense({ units: 3, activation: 'sparsemax', inputShape: [4] });
      const y = layer.apply(st.tensor([[1, 2, 3, 4]])) as st.Tensor;
      assertClose(st.sum(y, -1), [1], 1e-6, 1e-6);
    }));

  it('bad arguments are named', () =>
    withBackend('reference', () => {
      throwsWith(() => st.gcd(st.tensor([1.5]), st.tensor([2])), st.DtypeError, /gcd/, /int32/);
      throwsWith(() => st.ldexp(st.tensor([1]), st.tensor([1.5])), st.DtypeError, /ldexp/);
      throwsWith(() => st.quantile(st.tensor([1, 2]), 1.5), st.ValueError, /q must be in \[0, 1\]/);
      throwsWith(() => st.percentile(st.tensor([1, 2]), 101), st.ValueError, /\[0, 100\]/);
      throwsWith(() => st.quantile(st.tensor([1, 2]), 0.5, { method: 'cubic' as never }), st.ValueError, /method/);
      throwsWith(() => st.cross(st.tensor([1, 2, 3, 4]), st.tensor([1, 2, 3, 4])), st.ShapeError, /2 or 3 components/);
      throwsWith(() => st.repeat(st.tensor([1, 2]), [1, 2, 3]), st.ValueError, /repeats/);
      throwsWith(() => st.rot90(st.tensor([1, 2])), st.ShapeError, /rank >= 2/);
      throwsWith(() => st.geomspace(0, 10), st.ValueError, /non-zero/);
      throwsWith(() => st.cdist(st.ones([2, 3]), st.ones([2, 4])), st.ShapeError, /share M/);
      throwsWith(() => st.segmentMax(st.ones([3]), st.tensor([0, 1], undefined, 'int32')), st.ShapeError, /one id per row/);
      throwsWith(() => st.l2Normalize(st.ones([2]), { order: 0 }), st.ValueError, /order/);
      throwsWith(() => st.select([st.tensor([true])], []), st.ValueError, /condlist/);
    }));

  it(
    'segment ops without numSegments on a backend that reads asynchronously: ids from the host work, ids computed there are refused by name',
    {
      skip: runs.some((r) => r.backend === 'webgpu') ? false : 'webgpu unavailable',
    },
    () =>
      withBackendAsync('webgpu', async () => {
        const data = st.tensor([1, 5, 2, 7, 3], [5]);
        const ids = st.tensor([0, 2, 0, 2, 1], undefined, 'int32');
        assert.deepEqual(Array.from(await st.segmentMax(data, ids).data()), [2, 3, 7]);
        const computed = st.add(ids, st.tensor(1, undefined, 'int32'));
        throwsWith(
          () => st.segmentMax(data, computed),
          st.ValueError,
          /segmentMax: give numSegments: segmentIds were computed on the 'webgpu' backend/,
        );
        assert.deepEqual(Array.from(await st.segmentMax(data, computed, 4).data()), [-Infinity, 2, 3, 7]);
      }),
  );

  it('argpartition partitions; rearrange and sliceUpdate refuse what they cannot do', () =>
    withBackend('reference', () => {
      const x = st.tensor([5, 1, 4, 2, 3, 0]);
      const order = Array.from(st.argpartition(x, 2).dataSync());
      const values = Array.from(x.dataSync());
      const kth = values[order[2]];
      assert.equal(kth, 2);
      assert.ok(order.slice(0, 2).every((i) => values[i] <= kth) && order.slice(3).every((i) => values[i] >= kth));
      throwsWith(() => st.rearrange(st.ones([2, 6]), 'a (b c) -> a b c'), st.ValueError, /all but one axis/);
      throwsWith(() => st.rearrange(st.ones([2, 6]), 'a b -> a'), st.ValueError, /same axes/);
      throwsWith(() => st.rearrange(st.ones([2, 6]), 'a ... -> a'), st.ValueError, /unsupported token/);
      throwsWith(() => st.sliceUpdate(st.ones([3, 3]), [2, 2], st.ones([2, 2])), st.ShapeError, /inside inputs/);
      throwsWith(() => st.correlate(st.ones([2, 2]), st.ones([2])), st.ShapeError, /1-D/);
    }));

  it('special values', () =>
    withBackend('reference', () => {
      assertClose(st.erfinv(st.tensor([1, -1, 1.5, 0])), [Infinity, -Infinity, NaN, 0], 0, 0);
      assertClose(
        st.nanmax(
          st.tensor([
            [NaN, NaN],
            [1, NaN],
          ]),
          1,
        ),
        [NaN, 1],
        0,
        0,
      );
      assertClose(st.nanmedian(st.tensor([NaN, NaN])), [NaN], 0, 0);
      assertClose(st.median(st.tensor([1, NaN, 3])), [NaN], 0, 0);
      assertClose(st.psnr(st.ones([2, 2]), st.ones([2, 2]), 1), [Infinity], 0, 0);
      assert.deepEqual(Array.from(st.signbit(st.tensor([-0, 0, -1], undefined, 'int32')).dataSync()), [0, 0, 1]);
      assertClose(st.logaddexp2(st.tensor([-Infinity, 1000]), st.tensor([-Infinity, 1000])), [-Infinity, 1001], 1e-12, 0);
    }));
});
