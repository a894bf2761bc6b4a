// Initializers and regularizers against Keras 3's definitions. Random initializers are checked
// by their sample statistics: the mean within 5 standard errors (sigma / sqrt(N)), the variance
// within 5 standard errors of a sample variance (sigma^2 sqrt((kurtosis - 1) / N)), and hard
// bounds for uniform and truncated samples. Streams are seeded, so each run sees the same draws.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { computeFans, getInitializer, initializers, serializeInitializer, type Initializer } from '../src/nn/initializers.js';
import { getRegularizer, regularizers, serializeRegularizer } from '../src/nn/regularizers.js';
import { assertClose, checkGradient, randomValues, withBackend, withBackendAsync } from './helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and the
// per-backend checks read with `await t.data()` / `await t.array()`, which every backend has.
await st.ready();
const BACKENDS = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);
// The standard deviation of a unit normal truncated to [-2, 2].
const TRUNCATED_STD = 0.87962566103423978;

function sampleStats(values: ArrayLike<number>) {
  const n = values.length;
  let sum = 0,
    min = Infinity,
    max = -Infinity;
  for (let i = 0; i < n; i++) {
    sum += values[i];
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { n, mean, variance: ss / (n - 1), min, max };
}

interface Expected {
  mean: number;
  variance: number;
  kurtosis: number;
  /** Every sample lies within [lo, hi]. */
  bounds?: [number, number];
}

function checkStatistics(values: ArrayLike<number>, e: Expected, what: string): void {
  const s = sampleStats(values);
  const sigma = Math.sqrt(e.variance);
  const meanTol = (5 * sigma) / Math.sqrt(s.n);
  assert.ok(Math.abs(s.mean - e.mean) <= meanTol, `${what}: mean ${s.mean}, expected ${e.mean} ± ${meanTol}`);
  const varTol = 5 * e.variance * Math.sqrt((e.kurtosis - 1) / s.n);
  assert.ok(Math.abs(s.variance - e.variance) <= varTol, `${what}: variance ${s.variance}, expected ${e.variance} ± ${varTol}`);
  if (e.bounds) {
    assert.ok(s.min >= e.bounds[0] && s.max <= e.bounds[1], `${what}: range [${s.min}, ${s.max}] outside [${e.bounds}]`);
  }
}

// Sample variance of x and x^2 statistics: uniform kurtosis 1.8, normal 3 (truncation only
// lightens the tails, so 3 is a safe bound for truncated normals too).
const uniform = (limit: number): Expected => ({ mean: 0, variance: (limit * limit) / 3, kurtosis: 1.8, bounds: [-limit, limit] });
const truncated = (stddev: number): Expected => ({
  mean: 0,
  variance: stddev * stddev,
  kurtosis: 3,
  bounds: [(-2 * stddev) / TRUNCATED_STD, (2 * stddev) / TRUNCATED_STD],
});
const normal = (mean: number, stddev: number): Expected => ({ mean, variance: stddev * stddev, kurtosis: 3 });

const DENSE = [300, 200]; // fanIn 300, fanOut 200, fanAvg 250
const CASES: { name: string; make: () => Initializer; shape: number[]; expected: Expected }[] = [
  { name: 'glorotUniform', make: () => initializers.glorotUniform(), shape: DENSE, expected: uniform(Math.sqrt(3 / 250)) },
  { name: 'glorotNormal', make: () => initializers.glorotNormal(), shape: DENSE, expected: truncated(Math.sqrt(1 / 250)) },
  { name: 'heUniform', make: () => initializers.heUniform(), shape: DENSE, expected: uniform(Math.sqrt(6 / 300)) },
  { name: 'heNormal', make: () => initializers.heNormal(), shape: DENSE, expected: truncated(Math.sqrt(2 / 300)) },
  { name: 'lecunUniform', make: () => initializers.lecunUniform(), shape: DENSE, expected: uniform(Math.sqrt(3 / 300)) },
  { name: 'lecunNormal', make: () => initializers.lecunNormal(), shape: DENSE, expected: truncated(Math.sqrt(1 / 300)) },
  // conv kernel [5, 5, 8, 16]: fanIn 5*5*8 = 200
  { name: 'heNormal (conv kernel)', make: () => initializers.heNormal(), shape: [5, 5, 8, 16], expected: truncated(Math.sqrt(2 / 200)) },
  // conv kernel [3, 3, 20, 30]: fanIn 180, fanOut 270, fanAvg 225
  {
    name: 'varianceScaling uniform fanAvg (conv kernel)',
    shape: [3, 3, 20, 30],
    expected: uniform(Math.sqrt((3 * 3) / 225)),
    make: () => initializers.varianceScaling({ scale: 3, mode: 'fanAvg', distribution: 'uniform' }),
  },
  {
    name: 'varianceScaling untruncatedNormal fanOut',
    shape: DENSE,
    expected: normal(0, Math.sqrt(0.5 / 200)),
    make: () => initializers.varianceScaling({ scale: 0.5, mode: 'fanOut', distribution: 'untruncatedNormal' }),
  },
  { name: 'randomNormal defaults', make: () => initializers.randomNormal(), shape: DENSE, expected: normal(0, 0.05) },
  { name: 'randomNormal', make: () => initializers.randomNormal({ mean: 0.5, stddev: 2 }), shape: DENSE, expected: normal(0.5, 2) },
  { name: 'randomUniform defaults', make: () => initializers.randomUniform(), shape: DENSE, expected: uniform(0.05) },
  {
    name: 'randomUniform',
    make: () => initializers.randomUniform({ minval: -1, maxval: 3 }),
    shape: DENSE,
    expected: { mean: 1, variance: 16 / 12, kurtosis: 1.8, bounds: [-1, 3] },
  },
  {
    // stddev is the normal's before truncation: the samples' variance is (0.5 * 0.8796)^2.
    name: 'truncatedNormal',
    make: () => initializers.truncatedNormal({ mean: 1, stddev: 0.5 }),
    shape: DENSE,
    expected: { mean: 1, variance: (0.5 * TRUNCATED_STD) ** 2, kurtosis: 3, bounds: [0, 2] },
  },
];

describe('fans', () => {
  it('follow Keras for scalars, vectors, dense and conv kernels', () => {
    assert.deepEqual(computeFans([]), { fanIn: 1, fanOut: 1 });
    assert.deepEqual(computeFans([7]), { fanIn: 7, fanOut: 7 });
    assert.deepEqual(computeFans([3, 5]), { fanIn: 3, fanOut: 5 });
    assert.deepEqual(computeFans([5, 4, 8]), { fanIn: 20, fanOut: 40 });
    assert.deepEqual(computeFans([3, 3, 4, 8]), { fanIn: 36, fanOut: 72 });
    assert.deepEqual(computeFans([2, 3, 3, 4, 8]), { fanIn: 72, fanOut: 144 });
  });
});

for (const backend of BACKENDS) {
  describe(`random initializers on the ${backend} backend`, () => {
    for (const c of CASES) {
      it(`${c.name}: mean, variance and bounds`, () =>
        withBackendAsync(backend, async () => {
          st.setSeed(1234);
          const t = c.make().init(c.shape);
          assert.deepEqual([...t.shape], c.shape);
          assert.equal(t.dtype, 'float32');
          checkStatistics(await t.data(), c.expected, c.name);
        }));
    }

    it('a seeded initializer repeats its values; setSeed makes unseeded ones reproducible', () =>
      withBackendAsync(backend, async () => {
        const seeded = initializers.glorotNormal({ seed: 7 });
        const a = await seeded.init([20, 30]).data(),
          b = await seeded.init([20, 30]).data();
        assert.deepEqual(a, b);
        assert.notDeepEqual(a, await initializers.glorotNormal({ seed: 8 }).init([20, 30]).data());
        const unseeded = initializers.heUniform();
        st.setSeed(42);
        const first = await unseeded.init([20, 30]).data(),
          second = await unseeded.init([20, 30]).data();
        assert.notDeepEqual(first, second, 'successive unseeded calls draw new values');
        st.setSeed(42);
        assert.deepEqual(await unseeded.init([20, 30]).data(), first);
        assert.deepEqual(await unseeded.init([20, 30]).data(), second);
      }));

    it('zeros, ones, constant and identity', () =>
      withBackendAsync(backend, async () => {
        assert.deepEqual(await initializers.zeros().init([2, 3]).array(), [
          [0, 0, 0],
          [0, 0, 0],
        ]);
        const ints = initializers.ones().init([3], 'int32');
        assert.equal(ints.dtype, 'int32');
        assert.deepEqual(await ints.array(), [1, 1, 1]);
        assert.deepEqual(await initializers.constant({ value: 2.5 }).init([2]).array(), [2.5, 2.5]);
        assert.deepEqual(await initializers.identity({ gain: 2 }).init([2, 3]).array(), [
          [2, 0, 0],
          [0, 2, 0],
        ]);
        assert.deepEqual(await initializers.identity().init([3, 2]).array(), [
          [1, 0],
          [0, 1],
          [0, 0],
        ]);
        assert.throws(() => initializers.identity().init([2, 2, 2]), st.ValueError);
      }));
  });
}

describe('seeded initializers agree across backends', () => {
  it(`the same seed gives the same weights on every backend (${BACKENDS.join(', ')})`, async () => {
    const read = (b: string, f: () => st.Tensor) => withBackendAsync(b, async () => Array.from(await f().data()));
    const results: number[][] = [],
      ortho: number[][] = [];
    for (const b of BACKENDS) {
      results.push(await read(b, () => initializers.glorotUniform({ seed: 3 }).init([8, 9])));
      ortho.push(await read(b, () => initializers.orthogonal({ seed: 3 }).init([6, 4])));
    }
    for (const [i, r] of results.entries()) assertClose(r, results[0], 1e-6, 1e-7, BACKENDS[i]);
    for (const [i, r] of ortho.entries()) assert.deepEqual(r, ortho[0], BACKENDS[i]);
  });
});

/** Gram matrix G = M^T M (byColumns) or M M^T of a row-major [rows, cols] matrix, in float64. */
function gram(m: ArrayLike<number>, rows: number, cols: number, byColumns: boolean): number[] {
  const [k, len] = byColumns ? [cols, rows] : [rows, cols];
  const at = (vec: number, i: number) => (byColumns ? m[i * cols + vec] : m[vec * cols + i]);
  const out: number[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let s = 0;
      for (let i = 0; i < len; i++) s += at(a, i) * at(b, i);
      out.push(s);
    }
  }
  return out;
}

const eyeTimes = (k: number, g: number) => Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? g : 0));

describe('orthogonal', () => {
  const shapes: { shape: number[]; rows: number; cols: number }[] = [
    { shape: [40, 40], rows: 40, cols: 40 },
    { shape: [50, 20], rows: 50, cols: 20 },
    { shape: [20, 50], rows: 20, cols: 50 },
    { shape: [3, 3, 4, 8], rows: 36, cols: 8 }, // flattened to [prod(shape[:-1]), shape[-1]]
  ];
  for (const backend of BACKENDS) {
    for (const { shape, rows, cols } of shapes) {
      it(`[${shape}] on ${backend}: orthonormal ${rows >= cols ? 'columns' : 'rows'}, scaled by gain`, () =>
        withBackendAsync(backend, async () => {
          st.setSeed(9);
          const k = Math.min(rows, cols);
          const q = initializers.orthogonal().init(shape);
          assert.deepEqual([...q.shape], shape);
          assertClose(gram(await q.data(), rows, cols, rows >= cols), eyeTimes(k, 1), 0, 2e-6);
          const scaled = initializers.orthogonal({ gain: 3, seed: 1 }).init(shape);
          assertClose(gram(await scaled.data(), rows, cols, rows >= cols), eyeTimes(k, 9), 0, 2e-5);
        }));
    }
  }

  it('is the Q of the QR of a seeded normal matrix, with a positive diagonal in R (float64)', () => {
    withBackend('reference', () => {
      for (const [rows, cols] of [
        [12, 5],
        [5, 12],
      ]) {
        const tall = Math.max(rows, cols),
          narrow = Math.min(rows, cols);
        const q = initializers.orthogonal({ seed: 21 }).init([rows, cols], 'float64');
        // The seeded stream orthogonal samples from: the same as st.randomNormal's.
        const a = st.randomNormal([tall, narrow], { seed: 21, dtype: 'float64' }).dataSync();
        const qTall = rows >= cols ? q : st.transpose(q);
        const qv = qTall.dataSync();
        assertClose(gram(qv, tall, narrow, true), eyeTimes(narrow, 1), 0, 1e-13);
        // R = Q^T A must be upper triangular with a positive diagonal.
        for (let i = 0; i < narrow; i++) {
          for (let j = 0; j < narrow; j++) {
            let r = 0;
            for (let t = 0; t < tall; t++) r += qv[t * narrow + i] * a[t * narrow + j];
            if (i > j) assert.ok(Math.abs(r) < 1e-12, `R[${i}][${j}] = ${r} should be 0`);
            if (i === j) assert.ok(r > 0, `R[${i}][${i}] = ${r} should be positive`);
          }
        }
      }
    });
  });

  it('rejects shapes of rank below 2', () => {
    assert.throws(() => initializers.orthogonal().init([5]), /rank 2 or more/);
  });
});

describe('getInitializer and serialization', () => {
  it('accepts camelCase, snake_case and class names', () => {
    for (const id of ['glorotUniform', 'glorot_uniform', 'GlorotUniform']) assert.equal(getInitializer(id).className, 'GlorotUniform');
    assert.equal(getInitializer('he_normal').className, 'HeNormal');
    assert.equal(getInitializer('OrthogonalInitializer').className, 'Orthogonal');
    assert.equal(getInitializer('variance_scaling').className, 'VarianceScaling');
    const mine = initializers.ones();
    assert.equal(getInitializer(mine), mine);
  });

  it('rejects unknown names, listing the known ones', () => {
    assert.throws(
      () => getInitializer('glorot'),
      (e: Error) => e instanceof st.ValueError && /glorotUniform/.test(e.message) && /orthogonal/.test(e.message),
    );
    assert.throws(() => getInitializer({ className: 'Nope' }), st.ValueError);
  });

  it('validates options', () => {
    assert.throws(() => initializers.randomNormal({ mean: 0, stdev: 1 } as never), /unknown option 'stdev'/);
    assert.throws(() => getInitializer({ className: 'RandomUniform', config: { min: 0 } }), st.ValueError);
    assert.throws(() => initializers.varianceScaling({ mode: 'fanMiddle' as never }), st.ValueError);
    assert.throws(() => initializers.varianceScaling({ scale: 0 }), st.ValueError);
    assert.throws(() => initializers.glorotUniform({ seed: 1.5 }), st.ValueError);
    // Keras's snake_case spellings load; 'normal' means the truncated normal, as in Keras.
    const vs = initializers.varianceScaling({ mode: 'fan_avg' as never, distribution: 'normal' as never });
    assert.deepEqual(vs.getConfig(), { scale: 1, mode: 'fanAvg', distribution: 'truncatedNormal', seed: null });
  });

  it('round-trips every initializer through JSON, seeded ones to the same values', () => {
    const all: Initializer[] = [
      initializers.glorotUniform({ seed: 1 }),
      initializers.glorotNormal(),
      initializers.heNormal({ seed: 2 }),
      initializers.heUniform(),
      initializers.lecunNormal(),
      initializers.lecunUniform({ seed: 3 }),
      initializers.zeros(),
      initializers.ones(),
      initializers.constant({ value: -1.5 }),
      initializers.randomNormal({ mean: 1, stddev: 0.2, seed: 4 }),
      initializers.randomUniform({ minval: 0, maxval: 2 }),
      initializers.truncatedNormal({ stddev: 0.3, seed: 5 }),
      initializers.orthogonal({ gain: 0.5, seed: 6 }),
      initializers.identity({ gain: 2 }),
      initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'uniform', seed: 7 }),
    ];
    for (const init of all) {
      const saved = JSON.parse(JSON.stringify(serializeInitializer(init)));
      const loaded = getInitializer(saved);
      assert.deepEqual(serializeInitializer(loaded), serializeInitializer(init), init.className);
      if ((init.getConfig().seed !== undefined && init.getConfig().seed !== null) || init.className === 'Constant') {
        assert.deepEqual(loaded.init([4, 4]).dataSync(), init.init([4, 4]).dataSync(), `${init.className} values`);
      }
    }
    assert.deepEqual(serializeInitializer(initializers.heNormal({ seed: 2 })), { className: 'HeNormal', config: { seed: 2 } });
  });
});

// ---- regularizers --------------------------------------------------------------------------------

const sumOf = (xs: number[], f: (x: number) => number) => xs.reduce((acc, x) => acc + f(x), 0);

describe('regularizers', () => {
  const w = randomValues(24, 5, -2, 2);
  const l1Sum = sumOf(w, Math.abs),
    l2Sum = sumOf(w, (x) => x * x);
  const cases = [
    { name: 'l1 default', r: regularizers.l1(), expected: 0.01 * l1Sum },
    { name: 'l2 default', r: regularizers.l2(), expected: 0.01 * l2Sum },
    { name: 'l1l2 default', r: regularizers.l1l2(), expected: 0.01 * l1Sum + 0.01 * l2Sum },
    { name: 'l1', r: regularizers.l1({ l1: 0.3 }), expected: 0.3 * l1Sum },
    { name: 'l2', r: regularizers.l2({ l2: 0.7 }), expected: 0.7 * l2Sum },
    { name: 'l1l2', r: regularizers.l1l2({ l1: 0.2, l2: 0.05 }), expected: 0.2 * l1Sum + 0.05 * l2Sum },
    { name: 'l1l2 with l2 only', r: regularizers.l1l2({ l1: 0, l2: 0.5 }), expected: 0.5 * l2Sum },
    { name: 'l1l2 all zero', r: regularizers.l1l2({ l1: 0, l2: 0 }), expected: 0 },
  ];
  for (const backend of BACKENDS) {
    it(`match float64 sums on the ${backend} backend`, () =>
      withBackendAsync(backend, async () => {
        for (const c of cases) {
          const penalty = c.r.apply(st.tensor(w, [4, 6]));
          assert.deepEqual([...penalty.shape], [], c.name);
          assertClose((await penalty.data())[0], c.expected, 1e-6, 1e-7, c.name);
        }
      }));
  }

  it('match exactly in float64 and differentiate to l1 sign(w) + 2 l2 w', () => {
    withBackend('reference', () => {
      const x = st.tensor(w, [4, 6], 'float64');
      for (const c of cases) assertClose(c.r.apply(x).item(), c.expected, 1e-13, 1e-15, c.name);
      const r = regularizers.l1l2({ l1: 0.2, l2: 0.05 });
      checkGradient((v) => r.apply(v), [x]);
      const v = st.variable(x);
      r.apply(v).backward();
      assertClose(
        v.grad!,
        w.map((x) => 0.2 * Math.sign(x) + 0.1 * x),
        1e-13,
        1e-15,
      );
    });
  });

  it('getRegularizer accepts names, class names and configs; serialization round-trips', () => {
    for (const [id, className] of [
      ['l1', 'L1'],
      ['L2', 'L2'],
      ['l1_l2', 'L1L2'],
      ['L1L2', 'L1L2'],
      ['l1l2', 'L1L2'],
    ]) {
      assert.equal(getRegularizer(id).className, className);
    }
    assert.deepEqual(getRegularizer('l1_l2').getConfig(), { l1: 0.01, l2: 0.01 });
    for (const r of [regularizers.l1({ l1: 0.1 }), regularizers.l2({ l2: 0.2 }), regularizers.l1l2({ l1: 0.3, l2: 0 })]) {
      const saved = JSON.parse(JSON.stringify(serializeRegularizer(r)));
      assert.deepEqual(serializeRegularizer(getRegularizer(saved)), serializeRegularizer(r));
    }
    assert.deepEqual(serializeRegularizer(regularizers.l2({ l2: 0.2 })), { className: 'L2', config: { l2: 0.2 } });
    const mine = regularizers.l1();
    assert.equal(getRegularizer(mine), mine);
  });

  it('rejects unknown names, unknown options and negative factors', () => {
    assert.throws(
      () => getRegularizer('l3'),
      (e: Error) => e instanceof st.ValueError && /l1l2/.test(e.message),
    );
    assert.throws(() => regularizers.l1({ l2: 0.1 } as never), /unknown option 'l2'/);
    assert.throws(() => regularizers.l2({ l2: -1 }), st.ValueError);
    assert.throws(() => regularizers.l1l2({ l1: NaN }), st.ValueError);
    assert.throws(() => getRegularizer({ className: 'L1', config: { l1: 0.1, l2: 0.1 } }), st.ValueError);
  });
});
