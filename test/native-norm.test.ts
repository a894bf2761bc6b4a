// The fused normalization kernels (Note [Fused normalization] in src/ops/normalization-fused.ts)
// against their composites: every fused result on the native backend (float32) is compared with
// the composite of core ops run in float64 on the reference backend, the oracle, for outputs,
// the batch statistics, first derivatives (through the gradient kernels, as fit() runs them) and
// second derivatives (through the rules' op formulas). The composites themselves are checked
// against the textbook formulas and finite differences in normalization.test.ts. Without the
// native backend the fused cases are skipped; the layer cases then compare the composite with itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { batchNormComposite, batchNormTrainingComposite, normalizeComposite } from '../src/ops/normalization.js';
import { backpropagate } from '../src/autograd/backward.js';
import type { TensorInfo } from '../src/backend/backend.js';
import { findBackend } from '../src/backend/registry.js';
import { tapePrimitives, withoutKernels } from './grad-check.js';
import { assertClose, checkGradient, randomTensor, randomValues, withBackend } from './helpers.js';

const NATIVE = st.backends().some((b) => b.name === 'native' && b.available);
const skip = NATIVE ? false : 'the native backend is not available';

/** Plain values with a shape, so each backend makes its own tensors. */
interface Input {
  shape: number[];
  values: number[];
}
const input = (shape: number[], seed: number, lo = -2, hi = 2): Input => ({
  shape,
  values: randomValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
    lo,
    hi,
  ),
});

interface Result {
  outputs: number[][];
  grads: number[][];
  second: number[][];
  primitives: Set<string>;
}

/**
 * Runs f on `backend` in `dtype`: its outputs, the gradients of L = Σ_k sum(out_k · w_k) with
 * respect to every input (backward without a recorded graph: the gradient kernels), and the
 * gradients of Σ (dL/dx_0)² (a recorded backward: the rules' op formulas).
 */
function run(backend: string, dtype: st.DType, f: (...xs: st.Tensor[]) => st.Tensor[], inputs: Input[]): Result {
  return withBackend(backend, () => {
    const xs = inputs.map((i) => st.variable(st.tensor(i.values, i.shape, dtype)));
    const outs = f(...xs);
    const ws = outs.map((o, k) => st.tensor(randomValues(o.size, 700 + k, 0.5, 1.5), o.shape, dtype));
    const loss = (...ts: st.Tensor[]) =>
      f(...ts)
        .map((o, k) => st.sum(st.mul(o, ws[k])))
        .reduce((a, b) => st.add(a, b));
    const first = backpropagate(loss(...xs), undefined, false, 'test', (t) => xs.includes(t));
    const grads = xs.map((x) => Array.from((first.get(x) ?? st.zerosLike(x)).dataSync()));
    const g0 = (...ts: st.Tensor[]) => st.sum(st.square(st.valueAndGrad(loss)(...ts).grads[0]));
    const { grads: second } = st.valueAndGrad(g0)(...xs);
    const primitives = new Set<string>();
    outs.forEach((o) => tapePrimitives(o).forEach((p) => primitives.add(p)));
    return { outputs: outs.map((o) => Array.from(o.dataSync())), grads, second: second.map((g) => Array.from(g.dataSync())), primitives };
  });
}

/** The fused run (native, float32) against the oracle (composite, reference, float64). */
function compare(fused: Result, oracle: Result, what: string, tol = { out: 2e-5, grad: 1e-4, second: 1e-3 }): void {
  fused.outputs.forEach((o, k) => assertClose(o, oracle.outputs[k], tol.out, tol.out, `${what}: output ${k}`));
  fused.grads.forEach((g, k) => assertClose(g, oracle.grads[k], tol.grad, tol.grad * scaleOf(oracle.grads[k]), `${what}: gradient ${k}`));
  fused.second.forEach((g, k) =>
    assertClose(g, oracle.second[k], tol.second, tol.second * scaleOf(oracle.second[k]), `${what}: second derivative ${k}`),
  );
}

/** The largest magnitude in a list (at least 1): absolute tolerances scale with it. */
const scaleOf = (v: number[]) => Math.max(1, ...v.map(Math.abs));

// 'norm-forward' is the reference backend plus the forward normalization kernels written here
// as float64 loops, without the gradient kernels: the fused primitives' VJP rules then run
// their op formulas, which checkGradient verifies in float64 (first and second derivatives).
// 'norm-all' adds batch norm's gradient kernels, so second derivatives go through their rules.
const ref = findBackend('reference')!;
const values = (t: TensorInfo): Float64Array =>
  Float64Array.from(
    ref.download(
      t.data,
      t.dtype,
      t.shape.reduce((a, b) => a * b, 1),
    ),
  );
const channelsOf = (t: TensorInfo) => t.shape[t.shape.length - 1];
/** y[r, c] = (x[r, c] - mean)·γ[c]/√(var + ε) + β[c], with mean and var per column or per row. */
function normalizeLoops(x: TensorInfo, gamma: Float64Array, beta: Float64Array, eps: number, stat: (r: number, c: number) => [number, number]) {
  const xs = values(x),
    c = channelsOf(x),
    y = new Float64Array(xs.length);
  xs.forEach((v, i) => {
    const [m, variance] = stat(Math.floor(i / c), i % c);
    y[i] = ((v - m) / Math.sqrt(variance + eps)) * gamma[i % c] + beta[i % c];
  });
  return ref.upload(y, x.dtype);
}
/** Mean and biased variance of each column (per = 'column') or row of x [rows, C]. */
function statsOf(x: TensorInfo, per: 'column' | 'row'): [Float64Array, Float64Array] {
  const xs = values(x),
    c = channelsOf(x),
    rows = xs.length / c,
    n = per === 'column' ? c : rows,
    len = per === 'column' ? rows : c;
  const at = (k: number, j: number) => (per === 'column' ? xs[j * c + k] : xs[k * c + j]);
  const mean = new Float64Array(n),
    variance = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < len; j++) mean[k] += at(k, j) / len;
    for (let j = 0; j < len; j++) variance[k] += (at(k, j) - mean[k]) ** 2 / len;
  }
  return [mean, variance];
}
const forwardKernels = {
  batchNormStats: ([x]: TensorInfo[]) => {
    const [m, v] = statsOf(x, 'column');
    return ref.upload(Float64Array.from([...m, ...v]), x.dtype);
  },
  batchNormTraining: ([x, g, b, stats]: TensorInfo[], { epsilon }: { epsilon: number }) => {
    const s = values(stats),
      c = channelsOf(x);
    return normalizeLoops(x, values(g), values(b), epsilon, (_r, k) => [s[k], s[c + k]]);
  },
  batchNormApply: ([x, m, v, g, b]: TensorInfo[], { epsilon }: { epsilon: number }) => {
    const [ms, vs] = [values(m), values(v)];
    return normalizeLoops(x, values(g), values(b), epsilon, (_r, k) => [ms[k], vs[k]]);
  },
  layerNorm: ([x, g, b]: TensorInfo[], { epsilon }: { epsilon: number }) => {
    const [m, v] = statsOf(x, 'row');
    return normalizeLoops(x, values(g), values(b), epsilon, (r) => [m[r], v[r]]);
  },
};
/** Batch norm's gradient kernels as float64 loops: Σ dy·x̂ and Σ dy per column, then dx. */
const gradKernels = {
  batchNormGradSums: ([x, stats, dy]: TensorInfo[], { epsilon }: { epsilon: number }) => {
    const xs = values(x),
      s = values(stats),
      g = values(dy),
      c = channelsOf(x),
      out = new Float64Array(2 * c);
    xs.forEach((v, i) => {
      out[i % c] += (g[i] * (v - s[i % c])) / Math.sqrt(s[c + (i % c)] + epsilon);
      out[c + (i % c)] += g[i];
    });
    return ref.upload(out, x.dtype);
  },
  batchNormGradInput: ([x, gamma, stats, dy, sums]: TensorInfo[], { epsilon }: { epsilon: number }) => {
    const xs = values(x),
      gm = values(gamma),
      s = values(stats),
      g = values(dy),
      sm = values(sums),
      c = channelsOf(x),
      n = xs.length / c;
    const dx = xs.map((v, i) => {
      const k = i % c,
        inv = 1 / Math.sqrt(s[c + k] + epsilon);
      return gm[k] * inv * (g[i] - sm[c + k] / n - (v - s[k]) * inv * (sm[k] / n));
    });
    return ref.upload(dx, x.dtype);
  },
};
for (const [name, kernels] of [
  ['norm-forward', forwardKernels],
  ['norm-all', { ...forwardKernels, ...gradKernels }],
] as const) {
  st.registerBackend(
    name,
    () => {
      const backend = withoutKernels(name, []);
      Object.assign(backend.kernels, kernels);
      return backend;
    },
    -1,
  );
}

describe("the fused primitives' VJP rules, float64 finite differences", () => {
  const onForward = <T>(f: () => T): T => withBackend('norm-forward', f);
  const rt = (shape: number[], seed: number, lo = -1, hi = 1) => randomTensor(shape, seed, 'float64', lo, hi);
  const uses = (primitive: string, y: st.Tensor) => assert.ok(tapePrimitives(y).has(primitive as never), `${primitive} ran`);

  it('batchNormTraining and batchNormStats: x, gamma, beta, and the returned statistics', () => {
    onForward(() => {
      const args = [rt([4, 3, 5], 1, -2, 3), rt([5], 2, 0.5, 2), rt([5], 3)];
      uses('batchNormTraining', st.batchNormTraining(st.variable(args[0]), { scale: args[1], offset: args[2] }).y);
      checkGradient((x, g, b) => st.batchNormTraining(x, { scale: g, offset: b }).y, args, { what: 'y' });
      checkGradient((x) => st.mul(st.batchNormTraining(x).mean, st.batchNormTraining(x).variance), [args[0]], { what: 'mean · variance' });
    });
  });

  for (const backend of ['norm-forward', 'norm-all']) {
    it(`batchNormTraining: second derivatives (${backend === 'norm-all' ? "the gradient kernels' rules" : 'the op formulas'})`, () => {
      withBackend(backend, () => {
        const g = rt([3], 12, 0.5, 2),
          b = rt([3], 13);
        checkGradient((x) => st.grad((y) => st.sum(st.pow(st.batchNormTraining(y, { scale: g, offset: b }).y, 3)))(x), [rt([5, 3], 11, -2, 3)], {
          what: 'd2 batch norm',
        });
        const x = rt([5, 3], 14, -2, 3);
        checkGradient((gamma) => st.grad((y) => st.sum(st.pow(st.batchNormTraining(y, { scale: gamma }).y, 3)))(x), [g], {
          what: 'd2 batch norm, gamma',
        });
        const primitives = tapePrimitives(st.grad((y) => st.sum(st.pow(st.batchNormTraining(y, { scale: g }).y, 3)))(st.variable(x)));
        assert.equal(primitives.has('batchNormGradInput'), backend === 'norm-all');
      });
    });
  }

  it('batchNormApply: x, mean, variance, gamma, beta', () => {
    onForward(() => {
      const args = [rt([2, 3, 4], 21), rt([4], 22), rt([4], 23, 0.2, 2), rt([4], 24, 0.5, 2), rt([4], 25)];
      uses('batchNormApply', st.batchNorm(st.variable(args[0]), args[1], args[2], args[4], args[3]));
      checkGradient((x, m, v, g, b) => st.batchNorm(x, m, v, b, g), args, { what: 'batchNorm' });
      checkGradient((x) => st.grad((y) => st.sum(st.pow(st.batchNorm(y, args[1], args[2], args[4], args[3]), 3)))(x), [args[0]], {
        what: 'd2 batchNorm',
      });
    });
  });

  it('layerNorm: x, gamma, beta, and second derivatives', () => {
    onForward(() => {
      const args = [rt([3, 2, 6], 31, -2, 3), rt([6], 32, 0.5, 2), rt([6], 33)];
      uses('layerNorm', st.layerNorm(st.variable(args[0]), { scale: args[1], offset: args[2] }));
      checkGradient((x, g, b) => st.layerNorm(x, { scale: g, offset: b }), args, { what: 'layerNorm' });
      checkGradient((x, g) => st.grad((y) => st.sum(st.pow(st.layerNorm(y, { scale: g }), 3)))(x), args.slice(0, 2), { what: 'd2 layerNorm' });
    });
  });
});

const CHANNELS = [1, 3, 17, 130];
const ROWS = [1, 5, 64];
const EPS = 1e-3;

describe('fused batch norm, training mode', { skip }, () => {
  const fused = (x: st.Tensor, g: st.Tensor, b: st.Tensor) => {
    const { y, mean, variance } = st.batchNormTraining(x, { scale: g, offset: b, epsilon: EPS });
    return [y, mean, variance];
  };
  const oracle = (x: st.Tensor, g: st.Tensor, b: st.Tensor) => {
    const { y, mean, variance } = batchNormTrainingComposite(x, g, b, EPS);
    return [y, mean, variance];
  };
  const shapes = [...ROWS.flatMap((r) => CHANNELS.map((c) => [r, c])), [2, 5, 3, 17], [3, 4, 4, 3], [2, 3, 3, 130]];
  let seed = 1;
  for (const shape of shapes) {
    it(`x ${JSON.stringify(shape)}: y, mean, variance and the gradients of x, gamma and beta`, () => {
      const c = shape[shape.length - 1];
      const inputs = [input(shape, seed++, -3, 5), input([c], seed++, 0.5, 2), input([c], seed++)];
      const f = run('native', 'float32', fused, inputs);
      assert.ok(f.primitives.has('batchNormTraining') && f.primitives.has('batchNormStats'), 'the fused kernels ran');
      compare(f, run('reference', 'float64', oracle, inputs), `batch norm ${JSON.stringify(shape)}`);
    });
  }

  it('a large mean and a small spread keep their precision (statistics shifted by the first row)', () => {
    const x = input([64, 7], 90, 999, 1001);
    const inputs = [x, input([7], 91, 0.5, 2), input([7], 92)];
    compare(run('native', 'float32', fused, inputs), run('reference', 'float64', oracle, inputs), 'offset data', {
      out: 1e-3,
      grad: 2e-3,
      second: 2e-2,
    });
  });

  it('without scale and offset', () => {
    const only = (x: st.Tensor) => Object.values(st.batchNormTraining(x, { epsilon: EPS }));
    const inputs = [input([6, 5, 3], 95)];
    const f = run('native', 'float32', only, inputs);
    assert.ok(f.primitives.has('batchNormTraining'));
    compare(
      f,
      run('reference', 'float64', (x) => Object.values(batchNormTrainingComposite(x, undefined, undefined, EPS)), inputs),
      'no scale/offset',
    );
  });
});

describe('fused batch norm with given statistics (inference)', { skip }, () => {
  let seed = 200;
  for (const shape of [
    [1, 1],
    [5, 3],
    [64, 17],
    [2, 3, 5, 130],
    [4, 2, 2, 3],
  ]) {
    it(`x ${JSON.stringify(shape)}: y and the gradients of x, mean, variance, gamma and beta`, () => {
      const c = shape[shape.length - 1];
      // Statistics shaped as the layer passes them, [1, ..., 1, C].
      const view = shape.map((_, i) => (i === shape.length - 1 ? c : 1));
      const inputs = [input(shape, seed++), input(view, seed++), input(view, seed++, 0.2, 2), input(view, seed++, 0.5, 2), input(view, seed++)];
      const f = run('native', 'float32', (x, m, v, g, b) => [st.batchNorm(x, m, v, b, g, EPS)], inputs);
      assert.ok(f.primitives.has('batchNormApply'), 'the fused kernel ran');
      compare(
        f,
        run('reference', 'float64', (x, m, v, g, b) => [batchNormComposite(x, m, v, b, g, EPS)], inputs),
        `batchNorm ${JSON.stringify(shape)}`,
      );
    });
  }

  it('statistics that broadcast other than per channel use the composite', () => {
    withBackend('native', () => {
      const x = st.variable(st.tensor(randomValues(12, 5), [4, 3]));
      const perRow = st.tensor(randomValues(4, 6, 0.5, 1), [4, 1]);
      const y = st.batchNorm(x, perRow, perRow);
      assert.ok(!tapePrimitives(y).has('batchNormApply'));
      assertClose(
        y,
        withBackend('reference', () =>
          batchNormComposite(
            st.tensor(randomValues(12, 5), [4, 3]),
            st.tensor(randomValues(4, 6, 0.5, 1), [4, 1]),
            st.tensor(randomValues(4, 6, 0.5, 1), [4, 1]),
            undefined,
            undefined,
            1e-3,
          ),
        ),
        1e-5,
        1e-5,
      );
    });
  });
});

describe('fused layer norm over the last axis', { skip }, () => {
  let seed = 300;
  const shapes = [...ROWS.flatMap((r) => CHANNELS.map((c) => [r, c])), [2, 5, 3, 17], [3, 7, 130]];
  for (const shape of shapes) {
    it(`x ${JSON.stringify(shape)}: y and the gradients of x, gamma and beta`, () => {
      const c = shape[shape.length - 1];
      const inputs = [input(shape, seed++, -3, 5), input([c], seed++, 0.5, 2), input([c], seed++)];
      const f = run('native', 'float32', (x, g, b) => [st.layerNorm(x, { scale: g, offset: b })], inputs);
      assert.ok(f.primitives.has('layerNorm'), 'the fused kernel ran');
      const oracle = run('reference', 'float64', (x, g, b) => [normalizeComposite(x, [x.rank - 1], g, b, EPS)], inputs);
      // With C = 1 every row is its own mean: y = beta, and only beta has a gradient.
      compare(f, oracle, `layer norm ${JSON.stringify(shape)}`);
    });
  }

  it('without scale and offset, and with another epsilon', () => {
    const inputs = [input([9, 33], 350)];
    const f = run('native', 'float32', (x) => [st.layerNorm(x, { epsilon: 1e-5 })], inputs);
    assert.ok(f.primitives.has('layerNorm'));
    compare(
      f,
      run('reference', 'float64', (x) => [normalizeComposite(x, [1], undefined, undefined, 1e-5)], inputs),
      'plain layer norm',
    );
  });

  it('other axes use the composite', () => {
    withBackend('native', () => {
      const x = st.variable(st.tensor(randomValues(24, 7), [2, 3, 4]));
      assert.ok(!tapePrimitives(st.normalize(x, { axis: [1, 2] })).has('layerNorm'));
      assert.ok(!tapePrimitives(st.normalize(x, { axis: 1 })).has('layerNorm'));
    });
  });
});

/**
 * A few training steps of a layer on one backend: outputs, the input's gradient, then weights and
 * moving statistics after each. Layer weights are float32, so the oracle runs the composite in
 * float32 on the reference backend, which accumulates in float64.
 */
function trainLayer(backend: string, dtype: st.DType, make: () => st.Layer, shape: number[], steps: number, training = true) {
  return withBackend(backend, () => {
    const layer = make();
    const history: number[][][] = [];
    for (let step = 0; step < steps; step++) {
      const x = st.variable(
        st.tensor(
          randomValues(
            shape.reduce((a, b) => a * b, 1),
            400 + step,
            -2,
            3,
          ),
          shape,
          dtype,
        ),
      );
      const w = st.tensor(randomValues(x.size, 500 + step, 0.5, 1.5), shape, dtype);
      const y = layer.apply(x, { training }) as st.Tensor;
      const trainable = layer.trainableWeights.map((t) => t.value);
      const grads = backpropagate(st.sum(st.mul(st.square(y), w)), undefined, false, 'test', (t) => t === x || trainable.includes(t));
      // Plain SGD on the host, so both backends take the same step.
      trainable.forEach((v) => {
        const g = grads.get(v)!.dataSync();
        v.assign(
          st.tensor(
            Array.from(v.dataSync()).map((a, i) => a - 0.05 * g[i]),
            v.shape,
            v.dtype,
          ),
        );
      });
      const dx = Array.from(grads.get(x)!.dataSync());
      history.push([Array.from(y.dataSync()), dx, ...layer.getWeights().map((t) => Array.from(t.dataSync()))]);
    }
    return history;
  });
}

describe('normalization layers: fused training matches the composite', { skip }, () => {
  const cases: [string, () => st.Layer, number[], string][] = [
    ['batchNormalization, NHWC', () => st.layers.batchNormalization({ momentum: 0.9 }), [4, 3, 3, 17], 'batchNormTraining'],
    [
      'batchNormalization without center and scale',
      () => st.layers.batchNormalization({ center: false, scale: false }),
      [16, 5],
      'batchNormTraining',
    ],
    ['layerNormalization, [batch, time, features]', () => st.layers.layerNormalization(), [3, 5, 130], 'layerNorm'],
    ['layerNormalization on one feature', () => st.layers.layerNormalization({ epsilon: 1e-5 }), [6, 1], 'layerNorm'],
  ];
  for (const [name, make, shape, primitive] of cases) {
    it(`${name}: outputs, input gradients, weights and moving statistics after three steps`, () => {
      const fused = trainLayer('native', 'float32', make, shape, 3);
      const oracle = trainLayer('reference', 'float32', make, shape, 3);
      fused.forEach((step, s) => step.forEach((v, k) => assertClose(v, oracle[s][k], 2e-4, 2e-4, `${name}: step ${s}, array ${k}`)));
      withBackend('native', () => {
        const x = st.variable(
          st.tensor(
            randomValues(
              shape.reduce((a, b) => a * b, 1),
              9,
            ),
            shape,
          ),
        );
        assert.ok(tapePrimitives(make().apply(x, { training: true }) as st.Tensor).has(primitive as never), `${name} ran ${primitive}`);
      });
    });
  }

  it('batchNormalization at inference and frozen (trainable = false) runs the given-statistics kernel', () => {
    const make = () => {
      const bn = st.layers.batchNormalization();
      bn.build([null, 7]);
      withBackend(st.getBackend().name, () =>
        bn.setWeights([
          st.tensor(randomValues(7, 1, 0.5, 2)),
          st.tensor(randomValues(7, 2)),
          st.tensor(randomValues(7, 3)),
          st.tensor(randomValues(7, 4, 0.5, 2)),
        ]),
      );
      bn.trainable = false;
      return bn;
    };
    const fused = trainLayer('native', 'float32', make, [10, 7], 2);
    const oracle = trainLayer('reference', 'float32', make, [10, 7], 2);
    fused.forEach((step, s) => step.forEach((v, k) => assertClose(v, oracle[s][k], 2e-5, 2e-5, `frozen: step ${s}, array ${k}`)));
    withBackend('native', () => {
      const x = st.variable(st.tensor(randomValues(70, 9), [10, 7]));
      assert.ok(tapePrimitives(make().apply(x, { training: true }) as st.Tensor).has('batchNormApply'));
    });
  });

  it('batchNormalization over a non-last axis keeps the composite', () => {
    const make = () => st.layers.batchNormalization({ axis: 1 });
    const fused = trainLayer('native', 'float32', make, [5, 4, 3], 2);
    const oracle = trainLayer('reference', 'float32', make, [5, 4, 3], 2);
    fused.forEach((step, s) => step.forEach((v, k) => assertClose(v, oracle[s][k], 2e-4, 2e-4, `axis 1: step ${s}, array ${k}`)));
    withBackend('native', () => {
      const x = st.variable(st.tensor(randomValues(60, 9), [5, 4, 3]));
      assert.ok(!tapePrimitives(make().apply(x, { training: true }) as st.Tensor).has('batchNormTraining'));
    });
  });
});

describe('batchNormTraining: validation and the float64 fallback', () => {
  it('rejects unknown options and scale of the wrong shape', () => {
    const x = st.zeros([4, 3]);
    assert.throws(() => st.batchNormTraining(x, { scal: st.ones([3]) } as never), st.ValueError);
    assert.throws(() => st.batchNormTraining(x, { scale: st.ones([4]) }), /scale must have shape \[3\].*received \[4\]/);
    assert.throws(() => st.batchNormTraining(st.zeros([3])), st.ShapeError);
  });

  it('in float64 on the reference backend it is the composite, matching the textbook formula', () => {
    withBackend('reference', () => {
      const values = randomValues(20, 11, -1, 4);
      const { y, mean, variance } = st.batchNormTraining(st.tensor(values, [5, 4], 'float64'), { epsilon: EPS });
      const col = (c: number) => values.filter((_, i) => i % 4 === c);
      const m = [0, 1, 2, 3].map((c) => col(c).reduce((a, b) => a + b, 0) / 5);
      const v = [0, 1, 2, 3].map((c) => col(c).reduce((a, b) => a + (b - m[c]) ** 2, 0) / 5);
      assertClose(mean, m, 1e-12, 1e-12);
      assertClose(variance, v, 1e-12, 1e-12);
      assertClose(
        y,
        values.map((x, i) => (x - m[i % 4]) / Math.sqrt(v[i % 4] + EPS)),
        1e-12,
        1e-12,
      );
    });
  });
});
