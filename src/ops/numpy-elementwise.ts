import { isFloat } from '../core/dtype.js';
import { DtypeError, ValueError, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { floorDiv, mod } from './arithmetic-extra.js';
import {
  abs,
  add,
  cast,
  div,
  equal,
  exp,
  greater,
  isFinite,
  isNaN,
  less,
  lessEqual,
  logicalAnd,
  logicalNot,
  logicalOr,
  maximum,
  mul,
  notEqual,
  pow,
  sign,
  sin,
  sub,
  where,
} from './elementwise.js';
import { floating, floatingPair, log1pAccurate } from './math-extra.js';
import { all, any } from './numpy-extra.js';
import { asTensor, type TensorInput } from './operand.js';
import { expandDims, reshape } from './shape-ops.js';

// Elementwise NumPy-style ops of keras.ops (issue 23) as composites of the existing ops, with
// NumPy's definitions; autograd differentiates them through their parts.

/** The real cube root, sign(x) |x|^(1/3) (negative inputs give negative roots). */
export function cbrt(x: TensorInput): Tensor {
  const t = floating('cbrt', x);
  return mul(sign(t), pow(abs(t), 1 / 3));
}

/** Degrees to radians: x π / 180. */
export const deg2rad = (x: TensorInput): Tensor => mul(floating('deg2rad', x), Math.PI / 180);
/** Radians to degrees: x 180 / π. */
export const rad2deg = (x: TensorInput): Tensor => mul(floating('rad2deg', x), 180 / Math.PI);

/** NumPy's heaviside: 0 where x1 < 0, x2 where x1 == 0, 1 where x1 > 0 (NaN stays NaN). */
export function heaviside(x1: TensorInput, x2: TensorInput): Tensor {
  const [a, b] = floatingPair('heaviside', x1, x2);
  return where(isNaN(a), a, where(less(a, 0), 0, where(equal(a, 0), b, 1)));
}

/** True where the sign bit is set: negative numbers and -0 (bool). */
export function signbit(x: TensorInput): Tensor {
  const t = asTensor('signbit', 'x', x);
  if (!isFloat(t.dtype)) return less(t, 0);
  // -0 is the zero whose reciprocal is -Infinity.
  return logicalOr(less(t, 0), logicalAnd(equal(t, 0), less(div(1, t), 0)));
}

/** The normalized sinc, sin(π x) / (π x), 1 at 0. */
export function sinc(x: TensorInput): Tensor {
  const t = floating('sinc', x);
  const zero = equal(t, 0);
  // A stand-in 1 where x is 0 keeps the division (and its gradient) finite there.
  const px = mul(where(zero, 1, t), Math.PI);
  return where(zero, 1, div(sin(px), px));
}

/** x1 * 2^x2 (x2 holds integers, as in NumPy). */
export function ldexp(x1: TensorInput, x2: TensorInput): Tensor {
  const a = floating('ldexp', x1, 'x1');
  const e = asTensor('ldexp', 'x2', x2);
  if (isFloat(e.dtype)) throw new DtypeError(`ldexp: x2 must hold integers (int32); received dtype ${e.dtype}`);
  return mul(a, pow(2, cast(e, a.dtype)));
}

/** log2(2^a + 2^b), computed as max(a, b) + log2(1 + 2^-|a - b|) so large inputs do not overflow. */
export function logaddexp2(a: TensorInput, b: TensorInput): Tensor {
  const [x, y] = floatingPair('logaddexp2', a, b);
  const big = maximum(x, y);
  const gap = abs(sub(x, y));
  // Equal infinities: the gap is NaN; the answer is that infinity.
  const rest = div(log1pAccurate(exp(mul(where(isNaN(gap), 0, gap), -Math.LN2))), Math.LN2);
  return where(logicalAnd(equal(x, y), logicalNot(isFinite(x))), x, add(big, rest));
}

/**
 * The remainder with the sign of the dividend, C's fmod: a - trunc(a / b) * b (st.mod's remainder
 * has the sign of the divisor). int32 inputs stay int32.
 */
export function fmod(a: TensorInput, b: TensorInput): Tensor {
  const x = asTensor('fmod', 'x1', a),
    y = asTensor('fmod', 'x2', b);
  const r = mod(x, y);
  // Where the floored remainder has the divisor's sign but not the dividend's, step back by b.
  const wrong = logicalAnd(notEqual(r, 0), notEqual(less(r, 0), less(x, 0)));
  return where(wrong, sub(r, y), r);
}

/** The Euclidean algorithm's steps: enough for any int32 pair (Fibonacci numbers pass 2^31 at 47). */
const EUCLID_STEPS = 48;

/** The greatest common divisor of int32 inputs (non-negative; gcd(0, 0) = 0). */
export function gcd(x1: TensorInput, x2: TensorInput): Tensor {
  let a = abs(integer('gcd', x1, 'x1')),
    b = abs(integer('gcd', x2, 'x2'));
  for (let i = 0; i < EUCLID_STEPS; i++) {
    const zero = equal(b, 0);
    const r = mod(a, where(zero, 1, b));
    [a, b] = [where(zero, a, b), where(zero, b, r)];
  }
  return a;
}

/** The least common multiple of int32 inputs (non-negative; 0 when either is 0). */
export function lcm(x1: TensorInput, x2: TensorInput): Tensor {
  const a = abs(integer('lcm', x1, 'x1')),
    b = abs(integer('lcm', x2, 'x2'));
  const g = gcd(a, b);
  const quotient = floorDiv(a, where(equal(g, 0), 1, g));
  return where(equal(g, 0), 0, mul(quotient, b));
}

function integer(op: string, x: TensorInput, name: string): Tensor {
  const t = asTensor(op, name, x);
  if (t.dtype !== 'int32') throw new DtypeError(`${op}: ${name} must be int32; received dtype ${t.dtype}`);
  return t;
}

/** Options of `st.isclose` and `st.allclose`. */
export interface IsCloseOptions {
  /** Relative tolerance (of |b|). Default 1e-5. */
  rtol?: number;
  /** Absolute tolerance. Default 1e-8. */
  atol?: number;
  /** NaN counts as equal to NaN. Default false. */
  equalNan?: boolean;
}

/** True where |a - b| <= atol + rtol |b| (NumPy's isclose; equal infinities are close). */
export function isclose(a: TensorInput, b: TensorInput, options: IsCloseOptions = {}): Tensor {
  checkKeys('isclose', options, ['rtol', 'atol', 'equalNan']);
  const { rtol = 1e-5, atol = 1e-8, equalNan = false } = options;
  if (!(rtol >= 0) || !(atol >= 0)) throw new ValueError(`isclose: rtol and atol must be >= 0; received ${fmtValue(rtol)} and ${fmtValue(atol)}`);
  const [x, y] = floatingPair('isclose', a, b);
  const close = logicalOr(equal(x, y), lessEqual(abs(sub(x, y)), add(mul(abs(y), rtol), atol)));
  const finiteOrEqual = logicalOr(logicalAnd(isFinite(x), isFinite(y)), equal(x, y));
  const result = logicalAnd(close, finiteOrEqual);
  return equalNan ? logicalOr(result, logicalAnd(isNaN(x), isNaN(y))) : result;
}

/** Whether every element of a is close to b (a bool scalar tensor; see isclose). */
export const allclose = (a: TensorInput, b: TensorInput, options: IsCloseOptions = {}): Tensor => all(isclose(a, b, options));

/** Options of `st.nanToNum`. */
export interface NanToNumOptions {
  /** What NaN becomes. Default 0. */
  nan?: number;
  /** What +Infinity becomes. Default the dtype's largest finite value. */
  posinf?: number;
  /** What -Infinity becomes. Default the dtype's most negative finite value. */
  neginf?: number;
}

/** NaN and infinities replaced by finite numbers (NumPy's nan_to_num); integer tensors are returned as they are. */
export function nanToNum(x: TensorInput, options: NanToNumOptions = {}): Tensor {
  checkKeys('nanToNum', options, ['nan', 'posinf', 'neginf']);
  const t = asTensor('nanToNum', 'x', x);
  if (!isFloat(t.dtype)) return t;
  const biggest = t.dtype === 'float64' ? Number.MAX_VALUE : 3.4028234663852886e38;
  const { nan = 0, posinf = biggest, neginf = -biggest } = options;
  return where(isNaN(t), nan, where(isFinite(t), t, where(greater(t, 0), posinf, neginf)));
}

/** True where an element of x is among `testElements` (NumPy's isin); `invert` negates. */
export function isin(x: TensorInput, testElements: TensorInput, invert = false): Tensor {
  const t = asTensor('isin', 'x', x),
    tests = asTensor('isin', 'testElements', testElements);
  const found = tests.size === 0 ? equal(cast(t, 'float32'), NaN) : any(equal(expandDims(t, -1), reshape(tests, [tests.size])), -1);
  return invert ? logicalNot(found) : found;
}
