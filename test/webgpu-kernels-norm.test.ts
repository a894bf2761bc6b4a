// The webgpu backend's normalization kernels (Note [WebGPU normalization]) and fused optimizer
// updates (Note [WebGPU optimizer updates]) against the reference backend, which has no optional
// kernels and so runs the composites: the kernels called directly (their composites on the
// reference side), the public ops and layers with gradients, and several steps of every
// optimizer kind with its slots.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { backpropagate } from '../src/autograd/backward.js';
import type { Primitive } from '../src/backend/primitives.js';
import type { WebGpuBackend } from '../src/backend/webgpu/index.js';
import { webgpuOptimizerUpdate } from '../src/backend/webgpu/kernels-optim.js';
import { batchNormTrainingComposite, normalizeComposite } from '../src/ops/normalization.js';
import { countPrimitives, runPrimitive } from '../src/ops/run.js';
import { assertClose, randomValues } from './helpers.js';
import { assertSameOnWebGpu, valuesOn, webgpuSkip } from './webgpu-helpers.js';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const onGpu = () => st.getBackend().name === 'webgpu';
/**
 * Random values of `shape`: float32 on webgpu, the same values in float64 elsewhere, so the
 * reference backend's composites are the oracle rather than another float32 computation.
 */
const r = (shape: number[], seed: number, lo = -2, hi = 2, dtype: st.DType = onGpu() ? 'float32' : 'float64') =>
  st.tensor(randomValues(size(shape), seed, lo, hi).map(Math.fround), shape, dtype);
const run = (p: Primitive, xs: st.Tensor[], attrs: object, shape: number[]) => runPrimitive(p, xs, attrs as never, shape, 'float32');

/**
 * f on webgpu against f on the reference backend (float64), each output within rtol, and within
 * an atol scaled by its largest magnitude: gradients through (x - mean)·inv lose digits to the
 * cancellation in x - mean, by the ratio of the mean to the spread, in any float32 computation.
 */
async function compare(f: () => st.Tensor | st.Tensor[], tol: number, what: string): Promise<void> {
  const [gpu, ref] = [await valuesOn('webgpu', f), await valuesOn('reference', f)];
  assert.equal(gpu.length, ref.length, what);
  gpu.forEach((g, k) => {
    assert.deepEqual(g.shape, ref[k].shape, `${what} output ${k} shape`);
    const scale = Math.max(1, ...ref[k].values.map(Math.abs));
    assertClose(g.values, ref[k].values, tol, tol * scale, `${what} output ${k}`);
  });
}
/** Rows 0 and 1 of a [2, C] result from two [C] vectors. */
const pair = (a: st.Tensor, b: st.Tensor) => st.concat([st.reshape(a, [1, -1]), st.reshape(b, [1, -1])], 0);

// [rows, C] cases: C around the row kernels' one-thread/one-workgroup switch and the column
// kernels' 32-channel blocks (a ragged last block), rows from 1 to a few hundred.
const SHAPES = [
  [5, 3],
  [1, 7],
  [2, 3, 40],
  [130, 33],
  [9, 300],
  [2000, 4],
  [2, 1030],
];
const EPS = 1e-3;

describe('webgpu normalization kernels', { skip: webgpuSkip }, () => {
  for (const shape of SHAPES) {
    const c = shape[shape.length - 1];
    // A mean far from zero against the spread: E[x²] - E[x]² would lose the variance in f32.
    const x = () => r(shape, 1, 30, 34);
    const gamma = () => r([c], 2, 0.5, 1.5);
    const beta = () => r([c], 3);
    const dy = () => r(shape, 4);

    it(`batchNormStats ${shape}`, async () => {
      await compare(
        () => {
          if (onGpu()) return run('batchNormStats', [x()], {}, [2, c]);
          const { mean, variance } = st.moments(
            x(),
            shape.slice(0, -1).map((_, i) => i),
          );
          return pair(mean, variance);
        },
        1e-5,
        'stats',
      );
    });

    it(`batchNormTraining and batchNormApply ${shape}`, async () => {
      await compare(
        () => {
          const xs = x();
          const mean = r([c], 5, 30, 34),
            variance = r([c], 6, 0.5, 3);
          const applied = st.batchNorm(xs, mean, variance, beta(), gamma(), EPS);
          if (onGpu()) {
            const stats = run('batchNormStats', [xs], {}, [2, c]);
            return [run('batchNormTraining', [xs, gamma(), beta(), stats], { epsilon: EPS }, shape), applied];
          }
          return [batchNormTrainingComposite(xs, gamma(), beta(), EPS).y, applied];
        },
        1e-4,
        'batch norm',
      );
    });

    it(`batchNormGradSums and batchNormGradInput ${shape}`, async () => {
      await compare(
        () => {
          const [xs, g, dys] = [x(), gamma(), dy()];
          if (onGpu()) {
            const stats = run('batchNormStats', [xs], {}, [2, c]);
            const sums = run('batchNormGradSums', [xs, stats, dys], { epsilon: EPS }, [2, c]);
            return [sums, run('batchNormGradInput', [xs, g, stats, dys, sums], { epsilon: EPS }, shape)];
          }
          const [vx, vg, vb] = [xs, g, beta()].map((t) => st.variable(t));
          const grads = backpropagate(batchNormTrainingComposite(vx, vg, vb, EPS).y, dys, false, 'test', (t) => [vx, vg, vb].includes(t));
          return [pair(grads.get(vg) as st.Tensor, grads.get(vb) as st.Tensor), grads.get(vx) as st.Tensor];
        },
        1e-4,
        'batch norm gradient',
      );
    });

    it(`layerNorm ${shape}`, async () => {
      await compare(
        () =>
          onGpu()
            ? st.layerNorm(x(), { scale: gamma(), offset: beta(), epsilon: EPS })
            : normalizeComposite(x(), [shape.length - 1], gamma(), beta(), EPS),
        1e-4,
        'layer norm',
      );
    });

    it(`layerNormGradSums and layerNormGradInput ${shape}`, async () => {
      await compare(
        () => {
          const [xs, g, dys] = [x(), gamma(), dy()];
          if (onGpu()) {
            const sums = run('layerNormGradSums', [xs, dys], { epsilon: EPS }, [2, c]);
            return [sums, run('layerNormGradInput', [xs, g, dys], { epsilon: EPS }, shape)];
          }
          const [vx, vg, vb] = [xs, g, beta()].map((t) => st.variable(t));
          const y = normalizeComposite(vx, [shape.length - 1], vg, vb, EPS);
          const grads = backpropagate(y, dys, false, 'test', (t) => [vx, vg, vb].includes(t));
          return [pair(grads.get(vg) as st.Tensor, grads.get(vb) as st.Tensor), grads.get(vx) as st.Tensor];
        },
        1e-4,
        'layer norm gradient',
      );
    });
  }

  it('layers in training and inference, with gradients, run the fused kernels', async () => {
    let counted = new Map<string, number>();
    await compare(
      () => {
        const stop = countPrimitives();
        const bn = st.layers.batchNormalization({ momentum: 0.5 });
        const ln = st.layers.layerNormalization();
        // float32 on both backends: the layers' weights and moving statistics are float32.
        const x = r([6, 4, 5], 7, 3, 6, 'float32');
        const xv = st.variable(x);
        const w = r([6, 4, 5], 8, -2, 2, 'float32');
        const loss = (v: st.Tensor) => st.sum(st.mul(ln.apply(bn.apply(v, { training: true }) as st.Tensor) as st.Tensor, w));
        const value = loss(xv);
        const weights = [...bn.trainableWeights, ...ln.trainableWeights].map((v) => v.value);
        const grads = backpropagate(value, undefined, false, 'test', (t) => t === xv || weights.includes(t));
        const inference = bn.apply(x, { training: false }) as st.Tensor;
        const counts = stop();
        if (onGpu()) counted = counts;
        return [value, ...[xv, ...weights].map((t) => grads.get(t) as st.Tensor), inference, ...bn.weights.map((v) => v.value)];
      },
      1e-4,
      'layers',
    );
    const kernels = ['batchNormStats', 'batchNormTraining', 'batchNormApply', 'batchNormGradSums', 'batchNormGradInput', 'layerNorm'];
    for (const k of [...kernels, 'layerNormGradSums', 'layerNormGradInput']) assert.ok(counted.get(k), `${k} ran on webgpu`);
  });
});

type Make = () => st.Optimizer;
const OPTIMIZERS: [string, Make][] = [
  ['sgd', () => st.optimizers.sgd({ learningRate: 0.1 })],
  ['sgd momentum', () => st.optimizers.sgd({ learningRate: 0.1, momentum: 0.9 })],
  ['sgd nesterov + weight decay', () => st.optimizers.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['rmsprop', () => st.optimizers.rmsprop({ learningRate: 0.01 })],
  ['rmsprop momentum', () => st.optimizers.rmsprop({ learningRate: 0.01, momentum: 0.5 })],
  ['rmsprop centered', () => st.optimizers.rmsprop({ learningRate: 0.01, centered: true })],
  ['rmsprop centered + momentum + clipValue', () => st.optimizers.rmsprop({ learningRate: 0.01, centered: true, momentum: 0.5, clipValue: 0.5 })],
  ['adam', () => st.optimizers.adam({ learningRate: 0.01 })],
  ['adam amsgrad', () => st.optimizers.adam({ learningRate: 0.01, amsgrad: true })],
  ['adamw', () => st.optimizers.adamw({ learningRate: 0.01 })],
  ['adagrad + weight decay', () => st.optimizers.adagrad({ learningRate: 0.1, initialAccumulatorValue: 0.5, weightDecay: 0.05 })],
  ['adadelta', () => st.optimizers.adadelta({ learningRate: 1, rho: 0.7 })],
  ['adamax + weight decay', () => st.optimizers.adamax({ learningRate: 0.05, beta1: 0.8, beta2: 0.99, weightDecay: 0.02 })],
  [
    'adam with a schedule',
    () => st.optimizers.adam({ learningRate: st.schedules.exponentialDecay({ initialLearningRate: 0.05, decaySteps: 2, decayRate: 0.5 }) }),
  ],
];

/** Five steps on two variables with fixed pseudo-random gradients: the variables, then each one's slots. */
function steps(make: Make): st.Tensor[] {
  const opt = make();
  const a = st.variable(r([3, 4], 1)),
    b = st.variable(r([300], 2));
  for (let step = 0; step < 5; step++) {
    opt.applyGradients([
      { variable: a, grad: r([3, 4], 10 + step) },
      { variable: b, grad: r([300], 20 + step) },
    ]);
  }
  return [a, b, ...(opt.slotsFor(a) ?? []), ...(opt.slotsFor(b) ?? [])];
}

describe('webgpu fused optimizer updates', { skip: webgpuSkip }, () => {
  for (const [name, make] of OPTIMIZERS) {
    it(name, async () => {
      await assertSameOnWebGpu(() => steps(make), 1e-5, 1e-6, name);
    });
  }

  it('a learning rate that changes every step compiles no new kernel', async () => {
    await st.setBackend('webgpu');
    try {
      const backend = st.getBackend() as unknown as WebGpuBackend;
      const opt = st.optimizers.adam({ learningRate: 0.01 });
      const w = st.variable(r([64], 3));
      const dispatches = () => backend.counters().dispatches;
      opt.applyGradients([{ variable: w, grad: r([64], 4) }]);
      await w.data();
      const [pipelines, before] = [backend.counters().pipelines, dispatches()];
      for (let step = 0; step < 4; step++) opt.applyGradients([{ variable: w, grad: r([64], 5 + step) }]);
      await w.data();
      assert.equal(backend.counters().pipelines, pipelines);
      assert.equal(dispatches() - before, 4, 'one dispatch per variable and step');
    } finally {
      await st.setBackend('reference');
    }
  });

  // SwiftShader offers 12 storage buffers a shader; WebGPU's default is 8, where the widest rules
  // (10 buffers) are split over several dispatches.
  for (const update of [
    { kind: 'adam', lr: 0.01, decay: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: true },
    { kind: 'rmsprop', lr: 0.01, decay: 0.001, rho: 0.9, momentum: 0.5, epsilon: 1e-7, centered: true },
  ] as const) {
    it(`${update.kind} split under a limit of 8 storage buffers matches one dispatch`, async () => {
      await st.setBackend('webgpu');
      try {
        const backend = st.getBackend() as unknown as WebGpuBackend;
        const ctx = backend.context();
        const narrow = webgpuOptimizerUpdate({ ...ctx, limits: { ...ctx.limits, maxStorageBuffersPerShaderStage: 8 } as GPUSupportedLimits });
        const wide = webgpuOptimizerUpdate(ctx);
        const info = (t: st.Tensor) => ({ data: t.storage, shape: t.shape, dtype: t.dtype });
        const [w, g, ...slots] = [r([50], 1), r([50], 2), r([50], 3), r([50], 4, 0, 1), r([50], 5, 0, 1)];
        const outs = (f: typeof wide) => {
          const before = backend.counters().dispatches;
          const { variable, slots: s } = f(update, info(w), info(g), slots.slice(0, 3).map(info));
          const count = backend.counters().dispatches - before;
          return { count, tensors: [variable, ...s].map((h) => new st.Tensor(h as never, [50], 'float32', backend as never)) };
        };
        const [a, b] = [outs(narrow), outs(wide)];
        assert.equal(b.count, 1);
        assert.ok(a.count > 1, `split into ${a.count} dispatches`);
        for (let k = 0; k < a.tensors.length; k++) assert.deepEqual(await a.tensors[k].data(), await b.tensors[k].data());
      } finally {
        await st.setBackend('reference');
      }
    });
  }
});
