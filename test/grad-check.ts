// Shared helpers for the gradient suites (gradients*.test.ts, composite-kernels.test.ts):
// random float64 inputs kept away from kinks, a checkGradient wrapper that records which
// primitives each check went through (so a suite can assert it reached every primitive it is
// responsible for), and backends derived from the reference one with optional kernels removed.
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import type { Backend } from '../src/backend/backend.js';
import { findBackend } from '../src/backend/registry.js';
import type { OptionalPrimitive, Primitive } from '../src/backend/primitives.js';
import { checkGradient, randomTensor, randomValues } from './helpers.js';

/** Uniform float64 values in [lo, hi). */
export const rt = (shape: number[], seed: number, lo = -1, hi = 1): st.Tensor => randomTensor(shape, seed, 'float64', lo, hi);

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** float64 values with |x| in [lo, hi) and a random sign: never near a kink at 0. */
export function awayFromZero(shape: number[], seed: number, lo = 0.2, hi = 1.5): st.Tensor {
  const n = count(shape);
  const mags = randomValues(n, seed, lo, hi),
    signs = randomValues(n, seed + 7919);
  return st.tensor(
    mags.map((m, i) => (signs[i] < 0 ? -m : m)),
    shape,
    'float64',
  );
}

/** float64 values whose fractional part lies in [0.1, 0.4): away from integers and halves. */
export function awayFromIntegers(shape: number[], seed: number): st.Tensor {
  const n = count(shape);
  const ints = randomValues(n, seed, -3, 3).map(Math.floor),
    fracs = randomValues(n, seed + 104729, 0.1, 0.4);
  return st.tensor(
    ints.map((k, i) => k + fracs[i]),
    shape,
    'float64',
  );
}

/** Distinct values (a shuffled, jittered grid), so max/min/maximum never see a near-tie. */
export function distinct(shape: number[], seed: number, spacing = 0.1): st.Tensor {
  const n = count(shape);
  const keys = randomValues(n, seed);
  const order = keys.map((_, i) => i).sort((a, b) => keys[a] - keys[b]);
  const jitter = randomValues(n, seed + 31, 0, spacing / 4);
  const values = new Array<number>(n);
  order.forEach((slot, rank) => (values[slot] = (rank - n / 2) * spacing + jitter[rank]));
  return st.tensor(values, shape, 'float64');
}

/** The primitives on the tape between `y` and its leaves. */
export function tapePrimitives(y: st.Tensor): Set<Primitive> {
  const seen = new Set<st.Tensor>(),
    found = new Set<Primitive>();
  const stack = [y];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t) || !t.node) continue;
    seen.add(t);
    found.add(t.node.primitive);
    stack.push(...t.node.inputs);
  }
  return found;
}

/** A checkGradient that also adds the primitives `f` recorded to `covered`. */
export function makeCheck(covered: Set<Primitive>) {
  return (f: (...xs: st.Tensor[]) => st.Tensor, inputs: st.Tensor[], options: Parameters<typeof checkGradient>[2] = {}): void => {
    for (const p of tapePrimitives(f(...inputs.map((x) => st.variable(x))))) covered.add(p);
    checkGradient(f, inputs, options);
  };
}

/** Fails naming every primitive of `expected` that no check went through. */
export function assertCovered(covered: Set<Primitive>, expected: readonly Primitive[]): void {
  const missing = expected.filter((p) => !covered.has(p));
  assert.deepEqual(missing, [], `primitives without a gradient check: ${missing.join(', ')}`);
}

export const OPTIONAL_PRIMITIVES: readonly OptionalPrimitive[] = [
  'conv2d',
  'conv2dBackpropInput',
  'conv2dBackpropFilter',
  'maxPool2d',
  'maxPool2dGrad',
  'avgPool2d',
  'avgPool2dGrad',
  'softmax',
  'logSoftmax',
  'fusedConv2d',
];

/**
 * The reference backend with the optional kernels `omit` removed, under a new name. Everything
 * else (storage, memory, and any method the Backend interface gains) is the reference
 * backend's own, called on it.
 */
export function withoutKernels(name: string, omit: readonly OptionalPrimitive[]): Backend {
  const base = findBackend('reference');
  if (!base) throw new Error('the reference backend is not available');
  const kernels = { ...base.kernels };
  for (const p of omit) delete kernels[p];
  return new Proxy(base, {
    get(target, prop) {
      if (prop === 'name') return name;
      if (prop === 'kernels') return kernels;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Runs `f` with `name` as the active backend (tensors made inside live there, so ops on them
 * take that backend's kernels) and always switches back to the reference backend.
 */
export function onBackend<T>(name: string, f: () => T): T {
  assert.equal(st.getBackend().name, 'reference', 'onBackend expects the reference backend to be active');
  st.setBackend(name);
  try {
    return f();
  } finally {
    st.setBackend('reference');
  }
}
