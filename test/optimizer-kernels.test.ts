// Fused optimizer kernels against the same rules written as ops (run on the reference backend),
// over several steps, for every configuration a fused kernel covers; learning-rate schedules;
// and the optimizer's argument checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend, withBackendAsync } from './helpers.js';

type Make = () => st.Optimizer;

const configs: [string, Make][] = [
  ['sgd', () => st.optimizers.sgd({ learningRate: 0.1 })],
  ['sgd momentum', () => st.optimizers.sgd({ learningRate: 0.1, momentum: 0.9 })],
  ['sgd nesterov + weight decay', () => st.optimizers.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['rmsprop', () => st.optimizers.rmsprop({ learningRate: 0.01 })],
  ['rmsprop momentum', () => st.optimizers.rmsprop({ learningRate: 0.01, momentum: 0.5 })],
  ['rmsprop centered', () => st.optimizers.rmsprop({ learningRate: 0.01, centered: true })],
  ['rmsprop centered + momentum + clipNorm', () => st.optimizers.rmsprop({ learningRate: 0.01, centered: true, momentum: 0.5, clipNorm: 0.5 })],
  ['adam', () => st.optimizers.adam({ learningRate: 0.01 })],
  ['adam amsgrad + globalClipNorm', () => st.optimizers.adam({ learningRate: 0.01, amsgrad: true, globalClipNorm: 1 })],
  ['adamw', () => st.optimizers.adamw({ learningRate: 0.01 })],
  ['adagrad', () => st.optimizers.adagrad({ learningRate: 0.1 })],
  [
    'adagrad + weight decay, initial accumulator 0.5',
    () => st.optimizers.adagrad({ learningRate: 0.1, initialAccumulatorValue: 0.5, weightDecay: 0.05 }),
  ],
  ['adadelta', () => st.optimizers.adadelta({ learningRate: 1 })],
  ['adadelta rho 0.7 + clipValue', () => st.optimizers.adadelta({ learningRate: 1, rho: 0.7, clipValue: 0.5 })],
  ['adamax', () => st.optimizers.adamax({ learningRate: 0.05 })],
  ['adamax + weight decay', () => st.optimizers.adamax({ learningRate: 0.05, beta1: 0.8, beta2: 0.99, weightDecay: 0.02 })],
  ['nadam (ops on every backend)', () => st.optimizers.nadam({ learningRate: 0.05 })],
];

/** Five steps of fixed pseudo-random gradients on two variables; returns their final values. */
function run(make: Make, backend: string): Promise<number[][]> {
  return withBackendAsync(backend, () => {
    const opt = make();
    const a = st.variable(st.tensor(randomValues(12, 1), [3, 4])),
      b = st.variable(st.tensor(randomValues(4, 2), [4]));
    for (let step = 0; step < 5; step++) {
      opt.applyGradients([
        { variable: a, grad: st.tensor(randomValues(12, 10 + step, -2, 2), [3, 4]) },
        { variable: b, grad: st.tensor(randomValues(4, 20 + step, -2, 2), [4]) },
      ]);
    }
    assert.equal(opt.iterations, 5);
    return Promise.all([a, b].map(async (v) => Array.from(await v.data())));
  });
}

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and the
// per-backend checks read with `await t.data()`, which every backend has.
await st.ready();
for (const backend of st.backends().filter((b) => b.available && b.name !== 'reference')) {
  describe(`optimizer updates on the ${backend.name} backend match the rules as ops`, () => {
    for (const [name, make] of configs) {
      it(name, async () => {
        const expected = await run(make, 'reference');
        (await run(make, backend.name)).forEach((v, i) => assertClose(v, expected[i], 1e-5, 1e-6, `${name} variable ${i}`));
      });
    }
  });
}

describe('fused updates in place (Note [Updates in place])', () => {
  const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);
  const n = 70001; // several parallel chunks and a ragged end
  const steps = (make: Make, backend: string) =>
    withBackend(backend, () => {
      const opt = make();
      const w = st.variable(st.tensor(randomValues(n, 3), [n]));
      const handles: unknown[] = [];
      for (let step = 0; step < 4; step++) {
        opt.applyGradients([{ variable: w, grad: st.tensor(randomValues(n, 30 + step, -2, 2), [n]) }]);
        handles.push(w.storage);
      }
      return { values: Array.from(w.dataSync()), handles };
    });

  for (const [name, make] of configs.filter(([c]) => !c.startsWith('nadam'))) {
    it(`${name}: writes over a variable it owns alone, with the values of the rules as ops`, {
      skip: !nativeAvailable && 'native backend not built',
    }, () => {
      const got = steps(make, 'native'),
        want = steps(make, 'reference');
      assertClose(got.values, want.values, 1e-5, 1e-6, name);
      // The first update replaces the storage the variable shared with its initial tensor; the
      // variable owns the new one alone, so the later updates write over it.
      assert.notEqual(got.handles[0], undefined);
      assert.ok(
        got.handles.slice(1).every((h) => h === got.handles[0]),
        'the storage stays the same after the first update',
      );
    });
  }

  it('leaves tensors sharing the storage (getWeights) with the values they had', () => {
    const layer = st.layers.dense({ units: 3, useBias: false });
    layer.apply(st.zeros([1, 4]));
    const opt = st.optimizers.adam({ learningRate: 0.1 });
    const kernel = layer.weights[0].value;
    opt.applyGradients([{ variable: kernel, grad: st.onesLike(kernel) }]);
    const [before] = layer.getWeights();
    const saved = Array.from(before.dataSync());
    opt.applyGradients([{ variable: kernel, grad: st.onesLike(kernel) }]);
    assert.deepEqual(Array.from(before.dataSync()), saved, 'the snapshot keeps its values');
    assert.ok(
      Array.from(kernel.dataSync()).every((v, i) => v < saved[i]),
      'the variable moved',
    );
  });
});

describe('learning-rate schedules', () => {
  it('exponentialDecay, smooth and staircase', () => {
    const smooth = st.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    const stairs = st.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true });
    assertClose([smooth(0), smooth(5), smooth(10)], [0.1, 0.1 * Math.SQRT1_2, 0.05]);
    assertClose([stairs(9), stairs(10), stairs(25)], [0.1, 0.05, 0.025]);
  });

  it('cosineDecay with warm-up', () => {
    const s = st.schedules.cosineDecay({ initialLearningRate: 0, warmupTarget: 1, warmupSteps: 4, decaySteps: 10, alpha: 0.1 });
    assertClose([s(0), s(2), s(4), s(9), s(14), s(100)], [0, 0.5, 1, 0.1 + 0.9 * 0.5, 0.1, 0.1]);
  });

  it('piecewiseConstant', () => {
    const s = st.schedules.piecewiseConstant({ boundaries: [10, 20], values: [1, 0.5, 0.1] });
    assert.deepEqual([s(0), s(10), s(11), s(20), s(21)], [1, 1, 0.5, 0.5, 0.1]);
    assert.throws(() => st.schedules.piecewiseConstant({ boundaries: [1], values: [1] }), st.ValueError);
  });

  it('an optimizer takes the rate for its iteration count before each update', () => {
    const seen: number[] = [];
    const opt = st.optimizers.sgd({
      learningRate: (step) => {
        seen.push(step);
        return 0.5 / (step + 1);
      },
    });
    const w = st.variable(st.tensor([1]));
    for (let i = 0; i < 3; i++) opt.applyGradients([{ variable: w, grad: st.tensor([1]) }]);
    assert.deepEqual(seen, [0, 1, 2]);
    assertClose(w, [1 - 0.5 - 0.25 - 0.5 / 3]);
  });
});

describe('optimizer arguments and state', () => {
  it('rejects unknown options, several clipping modes and bad values', () => {
    assert.throws(
      () => st.optimizers.adam({ lr: 0.1 } as never),
      (e: Error) => e instanceof st.ValueError && /unknown option 'lr'/.test(e.message) && /learningRate/.test(e.message),
    );
    assert.throws(
      () => st.optimizers.sgd({ clipNorm: 1, clipValue: 1 }),
      (e: Error) => e instanceof st.ValueError && /only one of/.test(e.message),
    );
    assert.throws(() => st.optimizers.sgd({ weightDecay: -1 }), st.ValueError);
    assert.throws(
      () => st.getOptimizer('adamm' as never),
      (e: Error) => e instanceof st.ValueError && /adamm/.test(e.message),
    );
    const w = st.variable(st.ones([2]));
    assert.throws(
      () => st.optimizers.sgd().applyGradients([{ variable: w, grad: st.ones([3]) }]),
      (e: Error) => e instanceof st.ShapeError && /\[2\]/.test(e.message) && /\[3\]/.test(e.message),
    );
  });

  it('uses Keras defaults by name', () => {
    assert.deepEqual(st.getOptimizer('rmsprop').getConfig(), {
      name: 'rmsprop',
      learningRate: 0.001,
      rho: 0.9,
      momentum: 0,
      epsilon: 1e-7,
      centered: false,
      weightDecay: 0,
    });
    assert.equal(st.getOptimizer('sgd').getConfig().learningRate, 0.01);
    assert.equal(st.getOptimizer('adamw').getConfig().weightDecay, 0.004);
  });

  it('skips variables whose gradient is null, and minimize finds the variables itself', () => {
    const w = st.variable(st.tensor([2])),
      unused = st.variable(st.tensor([5]));
    const opt = st.optimizers.sgd({ learningRate: 0.25 });
    opt.applyGradients([{ variable: unused, grad: null }]);
    const loss = opt.minimize(() => w.square().sum());
    assert.equal(loss.item(), 4);
    assertClose(w, [2 - 0.25 * 4]);
    assertClose(unused, [5]);
  });

  it('getWeights/setWeights resume a run exactly', () => {
    const grads = [0.3, -0.7, 1.1, 0.2, -0.4, 0.9].map((g) => st.tensor([g, -g]));
    const straight = st.variable(st.tensor([1, 2]));
    const a = st.optimizers.adam({ learningRate: 0.1 });
    grads.forEach((g) => a.applyGradients([{ variable: straight, grad: g }]));
    const resumed = st.variable(st.tensor([1, 2]));
    const first = st.optimizers.adam({ learningRate: 0.1 });
    grads.slice(0, 3).forEach((g) => first.applyGradients([{ variable: resumed, grad: g }]));
    const second = st.optimizers.adam({ learningRate: 0.1 });
    second.setWeights(first.getWeights(), [resumed]);
    grads.slice(3).forEach((g) => second.applyGradients([{ variable: resumed, grad: g }]));
    assert.equal(second.iterations, 6);
    assertClose(resumed, straight, 0, 0);
  });
});
