import type { ArithmeticPrimitive, ComparisonPrimitive, UnaryPrimitive } from '../backend/primitives.js';
import { arithmeticType, assertDType, floatType, isFloat, promoteTypes, type DType } from '../core/dtype.js';
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { broadcastShapes, shapesEqual } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { asTensor, resultType, type TensorInput } from './operand.js';
import { runPrimitive } from './run.js';

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

export const neg = (x: TensorInput) => unary('neg', x);
export const abs = (x: TensorInput) => unary('abs', x);
export const exp = (x: TensorInput) => unary('exp', x);
export const log = (x: TensorInput) => unary('log', x);
export const sqrt = (x: TensorInput) => unary('sqrt', x);
export const sign = (x: TensorInput) => unary('sign', x);
export const tanh = (x: TensorInput) => unary('tanh', x);
export const sigmoid = (x: TensorInput) => unary('sigmoid', x);
export const relu = (x: TensorInput) => unary('relu', x);
export const sin = (x: TensorInput) => unary('sin', x);
export const cos = (x: TensorInput) => unary('cos', x);
export const floor = (x: TensorInput) => unary('floor', x);
export const ceil = (x: TensorInput) => unary('ceil', x);
export const round = (x: TensorInput) => unary('round', x);
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

export const add = (a: TensorInput, b: TensorInput) => arithmetic('add', a, b);
export const sub = (a: TensorInput, b: TensorInput) => arithmetic('sub', a, b);
export const mul = (a: TensorInput, b: TensorInput) => arithmetic('mul', a, b);
/** True division: integer operands give a float32 result. */
export const div = (a: TensorInput, b: TensorInput) => arithmetic('div', a, b);
export const pow = (a: TensorInput, b: TensorInput) => arithmetic('pow', a, b);
export const maximum = (a: TensorInput, b: TensorInput) => arithmetic('maximum', a, b);
export const minimum = (a: TensorInput, b: TensorInput) => arithmetic('minimum', a, b);

export const equal = (a: TensorInput, b: TensorInput) => comparison('equal', a, b);
export const notEqual = (a: TensorInput, b: TensorInput) => comparison('notEqual', a, b);
export const greater = (a: TensorInput, b: TensorInput) => comparison('greater', a, b);
export const greaterEqual = (a: TensorInput, b: TensorInput) => comparison('greaterEqual', a, b);
export const less = (a: TensorInput, b: TensorInput) => comparison('less', a, b);
export const lessEqual = (a: TensorInput, b: TensorInput) => comparison('lessEqual', a, b);
export const logicalAnd = (a: TensorInput, b: TensorInput) => comparison('logicalAnd', a, b);
export const logicalOr = (a: TensorInput, b: TensorInput) => comparison('logicalOr', a, b);

/** Picks from `a` where `cond` is true and from `b` elsewhere, broadcasting all three. */
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

export const square = (x: TensorInput) => {
  const t = asTensor('square', 'x', x);
  return mul(t, t);
};

export const reciprocal = (x: TensorInput) => div(1, x);
export const rsqrt = (x: TensorInput) => reciprocal(sqrt(x));
export const log1p = (x: TensorInput) => log(add(x, 1));
export const softplus = (x: TensorInput) => {
  // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow for large |x|.
  const t = asTensor('softplus', 'x', x);
  return add(relu(t), log1p(exp(neg(abs(t)))));
};

/** Limits values to [min, max]; the gradient passes where min <= x <= max. */
export function clip(x: TensorInput, min: number, max: number): Tensor {
  if (!(min <= max)) throw new ValueError(`clip: min must be <= max; received min ${min}, max ${max}`);
  return minimum(maximum(x, min), max);
}

export const isNaN = (x: TensorInput) => {
  const t = asTensor('isNaN', 'x', x);
  return notEqual(t, t);
};

export const isFinite = (x: TensorInput) => {
  const t = asTensor('isFinite', 'x', x);
  // x - x is 0 for finite x and NaN for ±inf and NaN.
  return equal(sub(t, t), 0);
};
