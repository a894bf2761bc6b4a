import { arithmeticType, floatType, isFloat } from '../core/dtype.js';
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { broadcastShapes, shapesEqual } from '../core/shape.js';
import { full } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  abs,
  add,
  cast,
  clip,
  div,
  equal,
  floor,
  greater,
  greaterEqual,
  isNaN,
  less,
  lessEqual,
  maximum,
  minimum,
  mul,
  notEqual,
  square,
  sub,
  where,
} from './elementwise.js';
import { asTensor, resultType, type TensorInput } from './operand.js';
import { max } from './reduction.js';
import { broadcastTo } from './shape-ops.js';

// Elementwise arithmetic that tfjs and Keras have and the primitive set does not, as composites.

/** Two operands in their common arithmetic dtype (bool counts as int32), broadcast to one shape. */
function pair(op: string, a: TensorInput, b: TensorInput): [Tensor, Tensor] {
  const dtype = arithmeticType(resultType(a, b));
  const ta = cast(asTensor(op, 'a', a), dtype),
    tb = cast(asTensor(op, 'b', b), dtype);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  return [broadcastTo(ta, shape), broadcastTo(tb, shape)];
}

// Note [Integer floor division]
// int32 operands are divided exactly, although the only division primitive is a float one and
// the native backend has no float64: a float32 quotient q0 = floor(a / b) is off by up to about
// |a| 2^-23 + 1, so the remainder r0 = a - q0 b (exact in wrapping int32 arithmetic) is small; a
// second float division of r0 by b moves q by the few units left, and a last comparison of the
// remainder with 0 and b, in int32 and therefore exact, fixes the final unit. Division by zero is
// refused (it has no integer answer; the float path gives ±Infinity or NaN as IEEE does). A
// backend without synchronous reads (webgpu) cannot stop to refuse it: there a zero divisor gives
// quotient 0 (so mod gives a), as integer overflow wraps there instead of failing.

const INT32_TOP_FLOAT = 2147483520; // the largest float32 below 2^31

function intFloorDiv(op: string, a: Tensor, b: Tensor): Tensor {
  if (b.backend.readSync === false) {
    const zero = equal(b, 0);
    return where(zero, 0, exactFloorDiv(a, where(zero, 1, b)));
  }
  if (b.size > 0 && max(cast(equal(b, 0), 'int32')).item() === 1) throw new ValueError(`${op}: integer division by zero`);
  return exactFloorDiv(a, b);
}

/** floor(a / b) for int32 a and a nonzero int32 b, exactly (Note [Integer floor division]). */
function exactFloorDiv(a: Tensor, b: Tensor): Tensor {
  const quotient = (num: Tensor) => cast(clip(floor(div(num, b)), -2147483648, INT32_TOP_FLOAT), 'int32');
  let q = quotient(a);
  q = add(q, quotient(sub(a, mul(q, b))));
  const r = sub(a, mul(q, b));
  const positive = greater(b, 0);
  // A remainder must lie in [0, b) for b > 0 and in (b, 0] for b < 0.
  const tooLow = where(positive, less(r, 0), greater(r, 0));
  const tooHigh = where(positive, greaterEqual(r, b), lessEqual(r, b));
  return add(q, sub(cast(tooHigh, 'int32'), cast(tooLow, 'int32')));
}

/**
 * floor(a / b) elementwise with broadcasting: rounds toward -Infinity, so -7 // 2 is -4 (tfjs's
 * floorDiv, NumPy's floor_divide). int32 operands give an exact int32 result (Note [Integer floor
 * division]); floats give floats.
 * @throws ValueError for an integer division by zero (on a backend with synchronous reads; on
 *   webgpu the quotient is 0 there).
 */
export function floorDiv(a: TensorInput, b: TensorInput): Tensor {
  const [ta, tb] = pair('floorDiv', a, b);
  if (!isFloat(ta.dtype)) return intFloorDiv('floorDiv', ta, tb);
  return floor(div(ta, tb));
}

/**
 * The remainder of floor division, a - floorDiv(a, b) * b: it takes the sign of b (tfjs's mod,
 * NumPy's mod, PyTorch's remainder). The gradient is 1 for a and -floor(a / b) for b.
 * @throws ValueError for an integer division by zero (on a backend with synchronous reads; on
 *   webgpu the remainder is a there).
 */
export function mod(a: TensorInput, b: TensorInput): Tensor {
  const [ta, tb] = pair('mod', a, b);
  if (!isFloat(ta.dtype)) return sub(ta, mul(intFloorDiv('mod', ta, tb), tb));
  return sub(ta, mul(floor(div(ta, tb)), tb));
}

/** (a - b)^2 elementwise, with broadcasting. */
export function squaredDifference(a: TensorInput, b: TensorInput): Tensor {
  const [ta, tb] = pair('squaredDifference', a, b);
  return square(sub(ta, tb));
}

/** a / b, but 0 wherever b is 0 (also for a = 0 or ±Infinity); a floating result. */
export function divNoNan(a: TensorInput, b: TensorInput): Tensor {
  const [ta, tb] = pair('divNoNan', a, b);
  const zero = equal(tb, 0);
  // The divisor is replaced where it is 0, so the unused quotient is never Infinity or NaN and the
  // gradient stays finite (Note [Branches that stay finite] in ops/math-extra.ts).
  return where(zero, 0, div(ta, where(zero, 1, tb)));
}

/** Elementwise test for ±Infinity, as a bool tensor (never true for int32 and bool). */
export function isInf(x: TensorInput): Tensor {
  const t = asTensor('isInf', 'x', x);
  if (!isFloat(t.dtype)) return notEqual(t, t);
  return equal(abs(t), Infinity);
}

/** Elementwise exclusive OR of the operands read as bool (non-zero is true), with broadcasting. */
export function logicalXor(a: TensorInput, b: TensorInput): Tensor {
  return notEqual(cast(asTensor('logicalXor', 'a', a), 'bool'), cast(asTensor('logicalXor', 'b', b), 'bool'));
}

/** 1 where x > 0 and `alpha` elsewhere (NaN stays NaN), as tfjs's step; a floating result with no gradient. */
export function step(x: TensorInput, alpha = 0): Tensor {
  const input = asTensor('step', 'x', x);
  const t = cast(input, floatType(input.dtype));
  return where(isNaN(t), t, where(greater(t, 0), 1, full([], alpha, t.dtype)));
}

/** The elementwise sum of tensors of one shape (tfjs's addN). */
export function addN(xs: readonly TensorInput[]): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ValueError('addN: expected a non-empty array of tensors');
  const ts = xs.map((x, i) => asTensor('addN', `xs[${i}]`, x));
  for (const [i, t] of ts.entries()) {
    if (!shapesEqual(t.shape, ts[0].shape)) {
      throw new ShapeError(`addN: all tensors must have one shape: xs[0] is ${fmtShape(ts[0].shape)}, xs[${i}] is ${fmtShape(t.shape)}`);
    }
  }
  return ts.slice(1).reduce((sum, t) => add(sum, t), cast(ts[0], arithmeticType(ts[0].dtype)));
}

/** tfjs's name for st.clip: limits values to [min, max]. */
export const clipByValue = (x: TensorInput, min: number, max: number): Tensor => clip(x, min, max);

/** The larger of a and b, or the one that is not NaN when only one is (NumPy's fmax). */
export function fmax(a: TensorInput, b: TensorInput): Tensor {
  const [ta, tb] = pair('fmax', a, b);
  return where(isNaN(tb), ta, where(isNaN(ta), tb, maximum(ta, tb)));
}

/** The smaller of a and b, or the one that is not NaN when only one is (NumPy's fmin). */
export function fmin(a: TensorInput, b: TensorInput): Tensor {
  const [ta, tb] = pair('fmin', a, b);
  return where(isNaN(tb), ta, where(isNaN(ta), tb, minimum(ta, tb)));
}
