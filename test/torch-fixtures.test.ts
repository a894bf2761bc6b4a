// Strata against PyTorch: the fixtures in test/fixtures/torch-*.json are written by
// scripts/make_torch_fixtures.py and, for the ops and losses of issue 23 (torch-parity-*.json,
// replayed through parity-fixture-runners.ts), scripts/make_parity_fixtures.py (float64 torch,
// fixed seed; inputs already rounded to float32).
// Each case is replayed here in float32 at float32 tolerances, and in float64 (where the backend
// supports it) at tolerances near double precision, which catches formula slips that float32
// noise could hide. Every case checks the output and the gradients of sum(output * w) with the
// fixture's fixed weight w. Python is needed only to regenerate the fixtures, never to run this.
//
// Each case runs on every available backend and on 'reference-composite': the reference
// backend without its optional fast kernels (conv, pooling, softmax), so the composite
// fallbacks in ops/ and their gradients are held to the same PyTorch numbers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, withBackend, withBackendAsync } from './helpers.js';
import { PARITY_FILES, PARITY_RUNNERS } from './parity-fixture-runners.js';

interface Arr {
  shape: number[];
  values: number[];
  /** Inputs: 'float' or 'int32'. An output marked 'int32' is compared exactly and has no gradients. */
  dtype?: 'float' | 'int32';
}
interface FixtureInput extends Arr {
  name: string;
  dtype: 'float' | 'int32';
  grad: boolean;
}
interface Case {
  name: string;
  op: string;
  options: Record<string, unknown>;
  inputs: FixtureInput[];
  output: Arr;
  weight: Arr;
  grads: Record<string, Arr>;
}
interface Tolerance {
  rtol: number;
  atol: number;
}

function load(file: string): Case[] {
  const doc = JSON.parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')) as { cases: Case[] };
  assert.ok(doc.cases.length > 0, `${file} holds no cases`);
  return doc.cases;
}

type Runner = (xs: st.Tensor[], options: Record<string, unknown>) => st.Tensor;
type LossFn = (yTrue: st.Tensor, yPred: st.Tensor, options: object) => st.Tensor;
const loss =
  (name: keyof typeof st.losses): Runner =>
  ([t, p], o) =>
    (st.losses[name] as LossFn)(t, p, o);
// JSON has no undefined: a null axis means "all axes".
const axisOf = (o: Record<string, unknown>) => (o.axis ?? undefined) as st.Axis | undefined;

const RUNNERS: Record<string, Runner> = {
  conv2d: ([x, f], o) => st.conv2d(x, f, o as st.Conv2dOptions),
  maxPool2d: ([x], o) => st.maxPool2d(x, o as st.Pool2dOptions),
  avgPool2d: ([x], o) => st.avgPool2d(x, o as st.Pool2dOptions),
  softmax: ([x], o) => st.softmax(x, o.axis as number),
  logSoftmax: ([x], o) => st.logSoftmax(x, o.axis as number),
  logSumExp: ([x], o) => st.logSumExp(x, axisOf(o), o.keepDims as boolean),
  matmul: ([a, b], o) => st.matmul(a, b, o.transposeA as boolean, o.transposeB as boolean),
  meanSquaredError: loss('meanSquaredError'),
  meanAbsoluteError: loss('meanAbsoluteError'),
  binaryCrossentropy: loss('binaryCrossentropy'),
  categoricalCrossentropy: loss('categoricalCrossentropy'),
  sparseCategoricalCrossentropy: loss('sparseCategoricalCrossentropy'),
  huber: loss('huber'),
  kld: loss('kld'),
  ...PARITY_RUNNERS,
};

// float32 tolerances per fixture file. The reference kernels accumulate conv and matmul in
// float64, but a backend may accumulate in float32: a conv output sums up to 4*4*5 = 80
// products, hence the looser conv bound. Everything else is a handful of correctly rounded
// float32 operations per element.
const FILES: { file: string; float32: Tolerance }[] = [
  { file: 'torch-conv2d.json', float32: { rtol: 1e-4, atol: 1e-5 } },
  { file: 'torch-pool.json', float32: { rtol: 1e-5, atol: 1e-6 } },
  { file: 'torch-softmax.json', float32: { rtol: 1e-5, atol: 1e-6 } },
  { file: 'torch-matmul.json', float32: { rtol: 1e-5, atol: 1e-6 } },
  { file: 'torch-losses.json', float32: { rtol: 1e-5, atol: 1e-6 } },
  ...PARITY_FILES,
];
// Expected values are stored to 13 significant digits and the inputs are exact, so float64
// agrees with torch to rounding error.
const FLOAT64: Tolerance = { rtol: 1e-9, atol: 1e-11 };

/**
 * Replays one case: the output and the gradient of sum(output * w) for each differentiable input.
 * Values are read with `await t.data()`, which every backend has (webgpu has no synchronous read).
 */
async function check(c: Case, dtype: 'float32' | 'float64', tol: Tolerance): Promise<void> {
  const run = RUNNERS[c.op];
  assert.ok(run, `no runner for op '${c.op}'`);
  // Fixture inputs are float32-exact: making them float32 first keeps float64 bit-identical to torch's.
  const floatTensor = (a: Arr) => st.cast(st.tensor(a.values, a.shape, 'float32'), dtype);
  const inputs = c.inputs.map((x) => (x.dtype === 'int32' ? st.tensor(x.values, x.shape, 'int32') : floatTensor(x)));
  const wrt = c.inputs.flatMap((x, i) => (x.grad ? [i] : []));
  const weight = floatTensor(c.weight);

  let output: st.Tensor | undefined;
  const objective = (...vars: st.Tensor[]) => {
    const xs = inputs.slice();
    wrt.forEach((k, j) => (xs[k] = vars[j]));
    output = run(xs, c.options);
    return st.sum(st.mul(output, weight));
  };
  // Cases without a differentiable input (integer results, floorDiv) only run forward.
  let grads: st.Tensor[] = [];
  if (wrt.length) grads = st.valueAndGrad(objective)(...wrt.map((k) => inputs[k])).grads;
  else objective();

  const y = output!;
  if (c.output.dtype === 'int32') {
    assert.equal(y.dtype, 'int32', `${c.name}: output dtype`);
    assert.deepEqual([...y.shape], c.output.shape, `${c.name}: output shape`);
    assert.deepEqual(Array.from(await y.data()), c.output.values, `${c.name}: output`);
    return;
  }
  assert.equal(y.dtype, dtype, `${c.name}: output dtype`);
  assert.deepEqual([...y.shape], c.output.shape, `${c.name}: output shape`);
  assertClose(Array.from(await y.data()), c.output.values, tol.rtol, tol.atol, `${c.name}: output`);
  const gradValues = await Promise.all(grads.map(async (g) => Array.from(await g.data())));
  wrt.forEach((k, j) => {
    const name = c.inputs[k].name;
    const expected = c.grads[name];
    assert.ok(expected, `${c.name}: the fixture has no gradient for ${name}`);
    assert.equal(grads[j].dtype, dtype, `${c.name}: d/d${name} dtype`);
    assert.deepEqual([...grads[j].shape], expected.shape, `${c.name}: d/d${name} shape`);
    assertClose(gradValues[j], expected.values, tol.rtol, tol.atol, `${c.name}: d/d${name}`);
  });
}

// ---- the composite-only backend

const OPTIONAL_KERNELS = [
  'conv2d',
  'conv2dBackpropInput',
  'conv2dBackpropFilter',
  'maxPool2d',
  'maxPool2dGrad',
  'avgPool2d',
  'avgPool2dGrad',
  'softmax',
  'logSoftmax',
];

st.registerBackend(
  'reference-composite',
  () => {
    const ref = withBackend('reference', () => st.getBackend());
    const kernels = Object.fromEntries(Object.entries(ref.kernels).filter(([k]) => !OPTIONAL_KERNELS.includes(k)));
    // Storage is the reference backend's, so every method but the kernel table delegates to it.
    const backend: st.Backend = {
      name: 'reference-composite',
      kernels: kernels as st.Backend['kernels'],
      supportsDtype: (dtype) => ref.supportsDtype(dtype),
      upload: (values, dtype) => ref.upload(values, dtype),
      download: (data, dtype, size) => ref.download(data, dtype, size),
      fill: (shape, dtype, value) => ref.fill(shape, dtype, value),
      random: (shape, dtype, stream, dist) => ref.random(shape, dtype, stream, dist),
      release: (data) => ref.release(data),
      memory: () => ref.memory(),
    };
    return backend;
  },
  -1,
);

const fixtures = FILES.map(({ file, float32 }) => ({ file, float32, cases: load(file) }));

await st.ready(); // opens the webgpu backend where there is one
for (const backend of st.backends()) {
  const float64 = backend.available && withBackend(backend.name, () => st.getBackend().supportsDtype('float64'));
  describe(`PyTorch fixtures on the ${backend.name} backend`, { skip: backend.available ? false : `unavailable: ${backend.reason}` }, () => {
    for (const { file, float32, cases } of fixtures) {
      describe(file, () => {
        for (const c of cases) {
          it(`${c.name} (float32)`, () => withBackendAsync(backend.name, () => check(c, 'float32', float32)));
          it(`${c.name} (float64)`, { skip: float64 ? false : 'the backend has no float64' }, () =>
            withBackendAsync(backend.name, () => check(c, 'float64', FLOAT64)),
          );
        }
      });
    }
  });
}
