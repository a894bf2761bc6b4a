import assert from 'node:assert/strict';
import * as st from '../src/index.js';

/** Runs `f` with `name` as the current backend, restoring the previous one afterwards. */
export function withBackend<T>(name: string, f: () => T): T {
  const previous = st.getBackend().name;
  st.setBackend(name);
  try {
    return f();
  } finally {
    st.setBackend(previous);
  }
}

/** withBackend for an async body: the backend stays switched until the promise settles. */
export async function withBackendAsync<T>(name: string, f: () => Promise<T> | T): Promise<T> {
  const previous = st.getBackend().name;
  st.setBackend(name);
  try {
    return await f();
  } finally {
    st.setBackend(previous);
  }
}

/** Deterministic pseudo-random values in [lo, hi) (a tiny LCG, independent of Strata's RNG). */
export function randomValues(n: number, seed = 1, lo = -1, hi = 1): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(lo + ((s >>> 8) / 16777216) * (hi - lo));
  }
  return out;
}

export function randomTensor(shape: number[], seed = 1, dtype: st.DType = 'float64', lo = -1, hi = 1): st.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return st.tensor(randomValues(n, seed, lo, hi), shape, dtype);
}

export function flat(x: st.Tensor | number[] | number): number[] {
  if (typeof x === 'number') return [x];
  return Array.isArray(x) ? x : Array.from(x.dataSync());
}

/** Elementwise |a - b| <= atol + rtol * |b|, reporting the worst element on failure. */
export function assertClose(
  actual: st.Tensor | number[] | number,
  expected: st.Tensor | number[] | number,
  rtol = 1e-5,
  atol = 1e-6,
  what = '',
): void {
  if (actual instanceof st.Tensor && expected instanceof st.Tensor) {
    assert.deepEqual([...actual.shape], [...expected.shape], `${what} shape`);
  }
  const a = flat(actual),
    b = flat(expected);
  assert.equal(a.length, b.length, `${what} length ${a.length} vs ${b.length}`);
  let worst = -1,
    worstErr = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i]) && Number.isNaN(a[i])) continue;
    if (a[i] === b[i]) continue;
    const err = Math.abs(a[i] - b[i]) - (atol + rtol * Math.abs(b[i]));
    if (!(err <= 0) && (worst < 0 || err > worstErr)) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) assert.fail(`${what} element ${worst}: got ${a[worst]}, expected ${b[worst]} (rtol ${rtol}, atol ${atol})`);
}

/**
 * assertClose for a tensor on any backend: reads it (and a tensor `expected`) with
 * `await t.data()`, the read every backend has (webgpu has no synchronous one).
 */
export async function assertCloseAsync(
  actual: st.Tensor,
  expected: st.Tensor | number[] | number,
  rtol = 1e-5,
  atol = 1e-6,
  what = '',
): Promise<void> {
  if (expected instanceof st.Tensor) assert.deepEqual([...actual.shape], [...expected.shape], `${what} shape`);
  const b = expected instanceof st.Tensor ? Array.from(await expected.data()) : expected;
  assertClose(Array.from(await actual.data()), b, rtol, atol, what);
}

/**
 * Checks autograd against central finite differences in float64: `f` maps float64 inputs to a
 * tensor, reduced here with a fixed random weighting so every output element matters.
 */
export function checkGradient(
  f: (...xs: st.Tensor[]) => st.Tensor,
  inputs: st.Tensor[],
  options: { eps?: number; rtol?: number; atol?: number; what?: string } = {},
): void {
  const { eps = 1e-6, rtol = 1e-5, atol = 1e-7, what = 'gradient' } = options;
  const probe = f(...inputs);
  const weights = st.tensor(randomValues(probe.size, 99, 0.5, 1.5), probe.shape, 'float64');
  const scalar = (...xs: st.Tensor[]) => st.sum(st.mul(st.cast(f(...xs), 'float64'), weights));
  const vars = inputs.map((x) => st.variable(x));
  scalar(...vars).backward();
  inputs.forEach((x, k) => {
    const base = Array.from(x.dataSync());
    const numeric = base.map((_, i) => {
      const plus = base.slice(),
        minus = base.slice();
      plus[i] += eps;
      minus[i] -= eps;
      const at = (vals: number[]) => scalar(...inputs.map((y, j) => (j === k ? st.tensor(vals, x.shape, 'float64') : y))).item();
      return (at(plus) - at(minus)) / (2 * eps);
    });
    const analytic = vars[k].grad ? Array.from(vars[k].grad!.dataSync()) : base.map(() => 0);
    assertClose(analytic, numeric, rtol, atol, `${what} (input ${k})`);
  });
}

/** Asserts that `f` throws `cls` (a StrataError) and that the message matches every pattern. */
export function throwsWith(f: () => unknown, cls: new (...a: never[]) => Error, ...patterns: RegExp[]): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    assert.ok(e instanceof st.StrataError);
    for (const p of patterns) assert.match((e as Error).message, p);
    return true;
  });
}

/** The promise form of throwsWith. */
export async function rejectsWith(f: () => Promise<unknown>, cls: new (...a: never[]) => Error, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(f, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    assert.ok(e instanceof st.StrataError);
    for (const p of patterns) assert.match((e as Error).message, p);
    return true;
  });
}
