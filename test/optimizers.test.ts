// Optimizers against Keras 3's update rules (as written in Keras 3.16.0's keras/src/optimizers/,
// keras-team/keras commit 3422977; the fixture script lists the files): test/fixtures/optimizers.json is written by
// scripts/make_optimizer_fixtures.py (Keras 3's formulas by hand in float64 numpy, cross-checked
// against torch.optim where the two agree). Each case starts from the same float32-exact W [3, 4]
// and b [4], applies six fixed gradient sets with applyGradients and compares both variables
// after every step. Python is needed only to regenerate the fixture.
//
// Every case runs on every available backend (the native backend may use fused update kernels
// for float32) in float32, and in float64 where the backend has it: float64 takes the op-by-op
// path at near-double tolerances, which catches formula slips that float32 noise could hide.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, assertCloseAsync, withBackend, withBackendAsync } from './helpers.js';

const NAMES = ['W', 'b'] as const;
type VarName = (typeof NAMES)[number];
type StepValues = Record<VarName, number[]>;
type OptimizerName = keyof typeof st.optimizers;

interface Case {
  name: string;
  optimizer: OptimizerName;
  options: Record<string, unknown>;
  /** The float32 atol the fixture script found honest for this case (rtol is 1e-5). */
  float32Atol: number;
  /** The learning rate each step used (the schedule at iterations 0..5). */
  learningRates: number[];
  expected: StepValues[];
  /** Nadam only: the trajectory under the 0.96^(0.004 t) momentum cache (Keras 2 legacy, PyTorch). */
  legacyExpected?: StepValues[];
}
interface Fixture {
  initial: Record<VarName, { shape: number[]; values: number[] }>;
  gradients: StepValues[];
  cases: Case[];
}
interface Tolerance {
  rtol: number;
  atol: number;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/optimizers.json', import.meta.url), 'utf8')) as Fixture;

// float32: rtol 1e-5 and the case's own atol (1e-6 for most; 3e-6 or 1e-5 for three Adam
// cases). The fixture script simulates every case under four float32 rounding models (Keras 3's
// own among them) and picks the smallest atol of 1e-6, 3e-6, 1e-5 that all of them meet with a 3x
// margin. beta2 = 0.999 is not exact in float32, so every float32 Adam is inconsistent somewhere
// (Keras: 1 - beta2^t in float32 but 1 - beta2 in double), which drifts by ~1.5e-6 in six steps.
const FLOAT32_RTOL = 1e-5;
// Expected values are stored to 13 significant digits and the inputs are float32-exact.
const FLOAT64: Tolerance = { rtol: 1e-9, atol: 1e-12 };

// The plain-function schedules the fixture names; mirrored in scripts/make_optimizer_fixtures.py.
const FUNCTIONS: Record<string, (step: number) => number> = {
  inverseTime: (step) => 0.05 / (1 + step),
  stepDown: (step) => (step < 3 ? 0.02 : 0.005),
};

type ScheduleName = keyof typeof st.schedules;
type Factory = (options?: Record<string, unknown>) => st.Optimizer;
const make = (name: OptimizerName, options?: Record<string, unknown>): st.Optimizer => (st.optimizers[name] as unknown as Factory)(options);

function learningRateOf(spec: unknown): st.LearningRate {
  if (typeof spec === 'number') return spec;
  const s = spec as { schedule?: ScheduleName; config?: Record<string, unknown>; function?: string };
  if (s.schedule) return (st.schedules[s.schedule] as unknown as (c: Record<string, unknown>) => st.Schedule)(s.config!);
  const f = FUNCTIONS[s.function!];
  assert.ok(f, `unknown function schedule ${JSON.stringify(spec)}`);
  return f;
}

function optimizerFor(c: Case): st.Optimizer {
  const options: Record<string, unknown> = { ...c.options };
  if ('learningRate' in options) options.learningRate = learningRateOf(options.learningRate);
  return make(c.optimizer, options);
}

/** Applies the six gradient sets and returns both variables' values after each step. */
async function replay(c: Case, dtype: 'float32' | 'float64'): Promise<StepValues[]> {
  const load = (values: number[], shape: number[]) => st.cast(st.tensor(values, shape, 'float32'), dtype);
  const shapes = NAMES.map((k) => fixture.initial[k].shape);
  const opt = optimizerFor(c);
  const vars = NAMES.map((k, i) => st.variable(load(fixture.initial[k].values, shapes[i])));
  const out: StepValues[] = [];
  for (const grads of fixture.gradients) {
    opt.applyGradients(NAMES.map((k, i) => ({ variable: vars[i], grad: load(grads[k], shapes[i]) })));
    vars.forEach((v, i) => {
      assert.equal(v.dtype, dtype, `${c.name}: variable ${NAMES[i]} dtype`);
      assert.deepEqual([...v.shape], shapes[i], `${c.name}: variable ${NAMES[i]} shape`);
    });
    out.push({ W: Array.from(await vars[0].data()), b: Array.from(await vars[1].data()) });
  }
  assert.equal(opt.iterations, fixture.gradients.length, `${c.name}: iterations after ${fixture.gradients.length} updates`);
  return out;
}

function compare(got: StepValues[], expected: StepValues[], tol: Tolerance, what: string): void {
  expected.forEach((step, s) => {
    for (const k of NAMES) assertClose(got[s][k], step[k], tol.rtol, tol.atol, `${what}: after step ${s + 1}, ${k}`);
  });
}

async function check(c: Case, dtype: 'float32' | 'float64', tol: Tolerance): Promise<void> {
  const got = await replay(c, dtype);
  try {
    compare(got, c.expected, tol, `${c.name} (${dtype})`);
  } catch (e) {
    if (!c.legacyExpected) throw e;
    let legacy = true;
    try {
      compare(got, c.legacyExpected, tol, c.name);
    } catch {
      legacy = false;
    }
    if (!legacy) throw e;
    throw new assert.AssertionError({
      message: `${(e as Error).message}\n  The values follow the momentum cache u_t = beta1 (1 - 0.5 * 0.96^(0.004 t)) of Keras 2's legacy Nadam and PyTorch; Keras 3 uses 0.96^t`,
    });
  }
}

describe('optimizer fixture', () => {
  it('holds every optimizer and the common options', () => {
    const optimizers = new Set(fixture.cases.map((c) => c.optimizer));
    for (const name of Object.keys(st.optimizers)) assert.ok(optimizers.has(name as OptimizerName), `no case for ${name}`);
    const options = new Set(fixture.cases.flatMap((c) => Object.keys(c.options)));
    for (const k of ['clipNorm', 'clipValue', 'globalClipNorm', 'weightDecay', 'momentum', 'nesterov', 'centered', 'amsgrad']) {
      assert.ok(options.has(k), `no case sets ${k}`);
    }
    assert.equal(fixture.gradients.length, 6);
  });

  it('schedules give the learning rates the fixture used', () => {
    for (const c of fixture.cases) {
      const lr = learningRateOf(c.options.learningRate ?? 0);
      if (typeof lr === 'number') continue;
      c.learningRates.forEach((expected, step) => assertClose(lr(step), expected, 1e-12, 1e-15, `${c.name}: learning rate at step ${step}`));
    }
  });
});

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and the
// per-backend checks read with `await t.data()`, which every backend has.
await st.ready();
for (const backend of st.backends()) {
  const float64 = backend.available && withBackend(backend.name, () => st.getBackend().supportsDtype('float64'));
  describe(`Keras 3 optimizer updates on the ${backend.name} backend`, { skip: backend.available ? false : `unavailable: ${backend.reason}` }, () => {
    for (const c of fixture.cases) {
      it(`${c.name} (float32)`, () => withBackendAsync(backend.name, () => check(c, 'float32', { rtol: FLOAT32_RTOL, atol: c.float32Atol })));
      it(`${c.name} (float64)`, { skip: float64 ? false : 'the backend has no float64' }, () =>
        withBackendAsync(backend.name, () => check(c, 'float64', FLOAT64)),
      );
    }
  });
}

// ---- minimize

// A learning rate per optimizer that makes visible progress on the quadratic within 50 steps
// (Adadelta's effective step is tiny by design, so it is only required to make progress).
/** The value of a one-element tensor, read the way every backend can (webgpu has no item()). */
const scalarOf = async (t: st.Tensor): Promise<number> => (await t.data())[0];

const MINIMIZE: Record<OptimizerName, { options: Record<string, unknown>; factor: number }> = {
  sgd: { options: { learningRate: 0.1 }, factor: 0.01 },
  rmsprop: { options: { learningRate: 0.05 }, factor: 0.5 },
  adam: { options: { learningRate: 0.1 }, factor: 0.5 },
  adamw: { options: { learningRate: 0.1 }, factor: 0.5 },
  adagrad: { options: { learningRate: 0.5 }, factor: 0.5 },
  adadelta: { options: { learningRate: 1 }, factor: 1 },
  adamax: { options: { learningRate: 0.1 }, factor: 0.5 },
  nadam: { options: { learningRate: 0.1 }, factor: 0.5 },
};

for (const backend of st.backends()) {
  describe(`minimize on the ${backend.name} backend`, { skip: backend.available ? false : `unavailable: ${backend.reason}` }, () => {
    for (const name of Object.keys(MINIMIZE) as OptimizerName[]) {
      it(`${name} returns the loss and lowers a quadratic over 50 steps`, () =>
        withBackendAsync(backend.name, async () => {
          const { options, factor } = MINIMIZE[name];
          const opt = make(name, options);
          const target = st.tensor([1, -2, 0.5, 3, -1]);
          const scale = st.tensor([1, 2, 0.5, 1.5, 1]);
          const w = st.variable(st.zeros([5]));
          const lossOf = () => st.sum(st.mul(scale, st.square(st.sub(w, target))));
          // The losses are read once, after the 50 steps: on webgpu every read waits for the GPU
          // (about 10 ms each on SwiftShader), and a read per step made this case take seconds.
          const returned: st.Tensor[] = [];
          const lossesAfter: st.Tensor[] = [st.noGrad(lossOf)]; // before step 1, then after each step
          for (let i = 0; i < 50; i++) {
            const loss = opt.minimize(lossOf, [w]);
            assert.ok(loss instanceof st.Tensor, `${name}: minimize returns a tensor`);
            assert.equal(loss.size, 1, `${name}: minimize returns a scalar`);
            returned.push(loss);
            lossesAfter.push(st.noGrad(lossOf));
          }
          assert.equal(opt.iterations, 50);
          const got = Array.from(await st.stack(returned).data());
          const before = Array.from(await st.stack(lossesAfter).data());
          // The returned loss is the one whose gradients were applied: before this update.
          got.forEach((loss, i) => assertClose(loss, before[i], 1e-5, 1e-6, `${name}: loss returned by step ${i + 1}`));
          const [initial, previous] = [before[0], before[50]];
          assert.ok(Number.isFinite(previous), `${name}: final loss ${previous}`);
          assert.ok(previous < initial * factor, `${name}: loss ${initial} -> ${previous} after 50 steps (wanted below ${initial * factor})`);
        }));
    }

    it('minimize without a variable list updates every variable the loss uses', () =>
      withBackendAsync(backend.name, async () => {
        const opt = st.optimizers.sgd({ learningRate: 0.1 });
        const a = st.variable(st.tensor([1, 2]));
        const b = st.variable(st.tensor([3]));
        const loss = opt.minimize(() => st.add(st.sum(st.square(a)), st.sum(st.square(b))));
        assertClose(await scalarOf(loss), 14, 1e-6, 1e-6, 'loss');
        await assertCloseAsync(a, [0.8, 1.6], 1e-6, 1e-6, 'a'); // a - 0.1 * 2a
        await assertCloseAsync(b, [2.4], 1e-6, 1e-6, 'b');
      }));
  });
}

// ---- options and defaults

describe('optimizer options', () => {
  const names = Object.keys(st.optimizers) as OptimizerName[];

  it('unknown option names throw a ValueError naming the option', () => {
    for (const name of names) {
      for (const bad of ['bogusOption', 'beta_1', 'lr']) {
        assert.throws(
          () => make(name, { learningRate: 0.01, [bad]: 0.5 }),
          (e: unknown) => e instanceof st.ValueError && e.message.includes(`'${bad}'`),
          `${name} with option ${bad}`,
        );
      }
    }
    const schedules: [ScheduleName, Record<string, unknown>][] = [
      ['exponentialDecay', { initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, stairCase: true }],
      ['cosineDecay', { initialLearningRate: 0.1, decaySteps: 10, warmup_steps: 2 }],
      ['piecewiseConstant', { boundaries: [1], values: [0.1, 0.01], bogusOption: 1 }],
    ];
    for (const [name, config] of schedules) {
      const bad = Object.keys(config).at(-1)!;
      assert.throws(
        () => (st.schedules[name] as unknown as (c: Record<string, unknown>) => st.Schedule)(config),
        (e: unknown) => e instanceof st.ValueError && e.message.includes(`'${bad}'`),
        `${name} with option ${bad}`,
      );
    }
  });

  it('construction without options uses the Keras defaults (getConfig)', () => {
    const keras: Record<OptimizerName, Record<string, unknown>> = {
      sgd: { learningRate: 0.01, momentum: 0, nesterov: false },
      rmsprop: { learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false },
      adam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false },
      adamw: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false, weightDecay: 0.004 },
      adagrad: { learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 },
      adadelta: { learningRate: 0.001, rho: 0.95, epsilon: 1e-7 },
      adamax: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      nadam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    };
    for (const name of names) {
      for (const opt of [make(name), make(name, {})]) {
        const config = opt.getConfig();
        for (const [k, v] of Object.entries(keras[name])) assert.equal(config[k], v, `${name}.getConfig().${k}`);
        // Only AdamW decays weights by default (Keras: weight_decay=None elsewhere).
        if (name !== 'adamw') assert.ok(!config.weightDecay, `${name}.getConfig().weightDecay is ${String(config.weightDecay)}`);
        for (const k of ['clipNorm', 'clipValue', 'globalClipNorm'])
          assert.ok(config[k] === undefined || config[k] === null, `${name}.getConfig().${k}`);
      }
    }
  });

  it('getConfig reports the options given, with camelCase names', () => {
    const config = st.optimizers
      .adam({ learningRate: 0.02, beta1: 0.8, beta2: 0.95, epsilon: 0.1, amsgrad: true, clipNorm: 1.5, weightDecay: 0.2 })
      .getConfig();
    for (const [k, v] of Object.entries({
      learningRate: 0.02,
      beta1: 0.8,
      beta2: 0.95,
      epsilon: 0.1,
      amsgrad: true,
      clipNorm: 1.5,
      weightDecay: 0.2,
    })) {
      assert.equal(config[k], v, `adam.getConfig().${k}`);
    }
    assert.equal(st.optimizers.rmsprop({ centered: true, momentum: 0.5 }).getConfig().centered, true);
    assert.equal(st.optimizers.adagrad({ initialAccumulatorValue: 0.3 }).getConfig().initialAccumulatorValue, 0.3);
  });

  it('only one of clipNorm, clipValue and globalClipNorm may be set, as in Keras', () => {
    assert.throws(() => st.optimizers.sgd({ clipNorm: 1, clipValue: 1 }), st.ValueError);
    assert.throws(() => st.optimizers.adam({ clipNorm: 1, globalClipNorm: 1 }), st.ValueError);
  });
});
