import type { ArithmeticPrimitive, ComparisonPrimitive, UnaryPrimitive } from '../backend/primitives.js';
import { arithmeticType, assertDType, floatType, isFloat, promoteTypes, type DType } from '../core/dtype.js';
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { broadcastShapes, shapesEqual } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { asTensor, resultType, type TensorInput } from './operand.js';
import { runPrimitive } from './run.js';

/**
 * Converts to `dtype`: floats to int32 truncate toward zero, anything to bool is `x != 0` (NaN is
 * true). Returns `x` itself when it already has that dtype.
 * @throws DtypeError for an unknown dtype, or a value int32 cannot hold (NaN, ±Infinity, beyond
 * ±2^31) when casting to int32.
 */
export function cast(x: TensorInput, dtype: DType): Tensor {
  const t = asTensor('cast', 'x', x);
  assertDType('cast', dtype);
  if (t.dtype === dtype) return t;
  return runPrimitive('cast', [t], { dtype }, t.shape, dtype);
}

// ---- unary -------------------------------------------------------------------------------

/** Unary ops that need a floating input (an int32 or bool input is converted first). */
const FLOATING: ReadonlySet<UnaryPrimitive> = new Set(['exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'sin', 'cos']);
/** Rounding ops are the identity on integers. */
const ROUNDING: ReadonlySet<UnaryPrimitive> = new Set(['floor', 'ceil', 'round']);

function unary(op: UnaryPrimitive, x: TensorInput): Tensor {
  let t = asTensor(op, 'x', x);
  if (op === 'logicalNot') {
    t = cast(t, 'bool');
    return runPrimitive(op, [t], {}, t.shape, 'bool');
  }
  if (ROUNDING.has(op) && !isFloat(t.dtype)) return t;
  const dtype = FLOATING.has(op) ? floatType(t.dtype) : arithmeticType(t.dtype);
  t = cast(t, dtype);
  return runPrimitive(op, [t], {}, t.shape, dtype);
}

/** Elementwise `-x` (bool counts as int32; int32 wraps at -2^31). */
export const neg = (x: TensorInput) => unary('neg', x);
/** Elementwise `|x|`. */
export const abs = (x: TensorInput) => unary('abs', x);
/** Elementwise e^x; int32 and bool inputs give float32. */
export const exp = (x: TensorInput) => unary('exp', x);
/** Elementwise natural logarithm (NaN below 0, -Infinity at 0); int32 and bool inputs give float32. */
export const log = (x: TensorInput) => unary('log', x);
/** Elementwise square root; int32 and bool inputs give float32. */
export const sqrt = (x: TensorInput) => unary('sqrt', x);
/** Elementwise -1, 0 or 1 by the sign of x. */
export const sign = (x: TensorInput) => unary('sign', x);
/** Elementwise hyperbolic tangent; int32 and bool inputs give float32. */
export const tanh = (x: TensorInput) => unary('tanh', x);
/** Elementwise logistic function 1 / (1 + e^-x); int32 and bool inputs give float32. */
export const sigmoid = (x: TensorInput) => unary('sigmoid', x);
/** Elementwise max(x, 0). */
export const relu = (x: TensorInput) => unary('relu', x);
/** Elementwise sine (radians); int32 and bool inputs give float32. */
export const sin = (x: TensorInput) => unary('sin', x);
/** Elementwise cosine (radians); int32 and bool inputs give float32. */
export const cos = (x: TensorInput) => unary('cos', x);
/** Rounds down to an integer value, keeping the dtype (integers pass through unchanged). */
export const floor = (x: TensorInput) => unary('floor', x);
/** Rounds up to an integer value, keeping the dtype (integers pass through unchanged). */
export const ceil = (x: TensorInput) => unary('ceil', x);
/** Rounds to the nearest integer value, keeping the dtype (integers pass through unchanged). */
export const round = (x: TensorInput) => unary('round', x);
/** Elementwise NOT; the input is read as bool (non-zero is true) and the result is bool. */
export const logicalNot = (x: TensorInput) => unary('logicalNot', x);

// ---- binary ------------------------------------------------------------------------------

/** Brings both operands to one dtype and checks their shapes broadcast. */
function operands(op: string, a: TensorInput, b: TensorInput, dtype: DType): [Tensor, Tensor, number[]] {
  const ta = cast(asTensor(op, 'a', a, dtype), dtype);
  const tb = cast(asTensor(op, 'b', b, dtype), dtype);
  return [ta, tb, broadcastShapes(op, ta.shape, tb.shape)];
}

function arithmetic(op: ArithmeticPrimitive, a: TensorInput, b: TensorInput): Tensor {
  let dtype = arithmeticType(resultType(a, b));
  if (op === 'div') dtype = floatType(dtype);
  const [ta, tb, shape] = operands(op, a, b, dtype);
  return runPrimitive(op, [ta, tb], {}, shape, dtype);
}

function comparison(op: ComparisonPrimitive, a: TensorInput, b: TensorInput): Tensor {
  const logical = op === 'logicalAnd' || op === 'logicalOr';
  const [ta, tb, shape] = operands(op, a, b, logical ? 'bool' : resultType(a, b));
  return runPrimitive(op, [ta, tb], {}, shape, 'bool');
}

/**
 * Elementwise `a + b` with NumPy broadcasting.
 *
 * The result dtype is the larger of the two (bool < int32 < float32 < float64); a plain number
 * takes the tensor's dtype unless it is fractional next to an integer tensor (then float32).
 * int32 wraps modulo 2^32. Also a method: `a.add(b)`.
 * @throws ShapeError when the shapes do not broadcast.
 * @example
 * ```ts
 * st.add(st.tensor([[1, 2], [3, 4]]), st.tensor([10, 20])); // [[11, 22], [13, 24]]
 * st.tensor([1, 2]).add(0.5);                               // float32 [1.5, 2.5]
 * ```
 */
export const add = (a: TensorInput, b: TensorInput) => arithmetic('add', a, b);
/**
 * Elementwise `a - b` with broadcasting and {@link add}'s dtype rules.
 * @throws ShapeError when the shapes do not broadcast.
 */
export const sub = (a: TensorInput, b: TensorInput) => arithmetic('sub', a, b);
/**
 * Elementwise `a * b` with broadcasting and {@link add}'s dtype rules.
 * @throws ShapeError when the shapes do not broadcast.
 */
export const mul = (a: TensorInput, b: TensorInput) => arithmetic('mul', a, b);
/**
 * True division: integer operands give a float32 result.
 * Elementwise `a / b` with broadcasting; float64 stays float64, anything else gives float32.
 * @throws ShapeError when the shapes do not broadcast.
 */
export const div = (a: TensorInput, b: TensorInput) => arithmetic('div', a, b);
/**
 * Elementwise `a ** b` with broadcasting and {@link add}'s dtype rules.
 * @throws ShapeError when the shapes do not broadcast.
 */
export const pow = (a: TensorInput, b: TensorInput) => arithmetic('pow', a, b);
/**
 * Elementwise larger of `a` and `b`, with broadcasting (the gradient goes to `a` on ties).
 * @throws ShapeError when the shapes do not broadcast.
 */
export const maximum = (a: TensorInput, b: TensorInput) => arithmetic('maximum', a, b);
/**
 * Elementwise smaller of `a` and `b`, with broadcasting (the gradient goes to `a` on ties).
 * @throws ShapeError when the shapes do not broadcast.
 */
export const minimum = (a: TensorInput, b: TensorInput) => arithmetic('minimum', a, b);

/**
 * Elementwise `a == b` as a bool tensor, with broadcasting (compared in their common dtype).
 * @throws ShapeError when the shapes do not broadcast.
 */
export const equal = (a: TensorInput, b: TensorInput) => comparison('equal', a, b);
/**
 * Elementwise `a != b` as a bool tensor, with broadcasting.
 * @throws ShapeError when the shapes do not broadcast.
 */
export const notEqual = (a: TensorInput, b: TensorInput) => comparison('notEqual', a, b);
/**
 * Elementwise `a > b` as a bool tensor, with broadcasting.
 * @throws ShapeError when the shapes do not broadcast.
 */
export const greater = (a: TensorInput, b: TensorInput) => comparison('greater', a, b);
/**
 * Elementwise `a >= b` as a bool tensor, with broadcasting.
 * @throws ShapeError when the shapes do not broadcast.
 */
export const greaterEqual = (a: TensorInput, b: TensorInput) => comparison('greaterEqual', a, b);
/**
 * Elementwise `a < b` as a bool tensor, with broadcasting.
 * @throws ShapeError when the shapes do not broadcast.
 */
export const less = (a: TensorInput, b: TensorInput) => comparison('less', a, b);
/**
 * Elementwise `a <= b` as a bool tensor, with broadcasting.
 * @throws ShapeError when the shapes do not broadcast.
 */
export const lessEqual = (a: TensorInput, b: TensorInput) => comparison('lessEqual', a, b);
/**
 * Elementwise AND of the operands read as bool (non-zero is true), with broadcasting.
 * @throws ShapeError when the shapes do not broadcast.
 */
export const logicalAnd = (a: TensorInput, b: TensorInput) => comparison('logicalAnd', a, b);
/**
 * Elementwise OR of the operands read as bool (non-zero is true), with broadcasting.
 * @throws ShapeError when the shapes do not broadcast.
 */
export const logicalOr = (a: TensorInput, b: TensorInput) => comparison('logicalOr', a, b);

/**
 * Picks from `a` where `cond` is true and from `b` elsewhere, broadcasting all three.
 * The result has `a` and `b`'s common dtype; gradients flow to `a` and `b` where they were picked.
 * @throws ShapeError when the three shapes do not broadcast.
 */
export function where(cond: TensorInput, a: TensorInput, b: TensorInput): Tensor {
  const c = cast(asTensor('where', 'cond', cond, 'bool'), 'bool');
  const dtype = resultType(a, b);
  const [ta, tb, shape] = operands('where', a, b, dtype);
  const outShape = broadcastShapes('where', c.shape, shape);
  return runPrimitive('where', [c, ta, tb], {}, outShape, dtype);
}

/** relu's gradient: dy where x > 0, else 0 (x and dy of one shape and floating dtype). */
export function reluGrad(x: Tensor, dy: Tensor): Tensor {
  const dtype = promoteTypes(x.dtype, dy.dtype);
  if (!shapesEqual(x.shape, dy.shape)) {
    throw new ShapeError(`reluGrad: x and dy must have one shape; x is ${fmtShape(x.shape)}, dy is ${fmtShape(dy.shape)}`);
  }
  return runPrimitive('reluGrad', [cast(x, dtype), cast(dy, dtype)], {}, x.shape, dtype);
}

// ---- composites --------------------------------------------------------------------------

/** Elementwise `x * x`. */
export const square = (x: TensorInput) => {
  const t = asTensor('square', 'x', x);
  return mul(t, t);
};

/** Elementwise `1 / x` (floating result). */
export const reciprocal = (x: TensorInput) => div(1, x);
/** Elementwise `1 / sqrt(x)` (floating result). */
export const rsqrt = (x: TensorInput) => reciprocal(sqrt(x));
/** Elementwise `log(1 + x)`. */
export const log1p = (x: TensorInput) => log(add(x, 1));
/** Elementwise `log(1 + e^x)`, computed without overflow for large |x|. */
export const softplus = (x: TensorInput) => {
  // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow for large |x|.
  const t = asTensor('softplus', 'x', x);
  return add(relu(t), log1p(exp(neg(abs(t)))));
};

/**
 * Limits values to [min, max]; the gradient passes where min <= x <= max.
 * @throws ValueError when min > max.
 */
export function clip(x: TensorInput, min: number, max: number): Tensor {
  if (!(min <= max)) throw new ValueError(`clip: min must be <= max; received min ${min}, max ${max}`);
  return minimum(maximum(x, min), max);
}

/** Elementwise test for NaN, as a bool tensor. */
export const isNaN = (x: TensorInput) => {
  const t = asTensor('isNaN', 'x', x);
  return notEqual(t, t);
};

/** Elementwise test for a finite value (not NaN nor ±Infinity), as a bool tensor. */
export const isFinite = (x: TensorInput) => {
  const t = asTensor('isFinite', 'x', x);
  // x - x is 0 for finite x and NaN for ±inf and NaN.
  return equal(sub(t, t), 0);
};
