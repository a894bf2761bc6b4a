// Elementwise ONNX operators: activations, arithmetic with broadcasting, comparisons, Clip, Cast,
// Where, Softmax and its relatives. All of them work on any layout whose constants were permuted
// to match (Note [Channels-last inside, ONNX shapes outside] in layout.ts), except the softmax
// family, whose axis the builder remaps.
import * as E from '../../ops/elementwise.js';
import { softmax, logSoftmax } from '../../ops/nn.js';
import { erf } from '../../ops/special.js';
import { elu, gelu, leakyRelu, selu, softsign } from '../../nn/activation-ops.js';
import { reshape } from '../../ops/shape-ops.js';
import { full, tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ValueError } from '../../core/errors.js';
import { ONNX_DTYPES } from './schema.js';
import { strataDtype } from './tensors.js';
import { need, normAxis, type OpContext, type OpHandler } from './op-context.js';

const float = (t: Tensor) => (t.dtype === 'float32' ? t : E.cast(t, 'float32'));
const unary = (f: (x: Tensor, ctx: OpContext) => Tensor): OpHandler => ({ layout: 'agnostic', run: (ctx) => f(need(ctx, 0, 'X'), ctx) });

/** Binary ops keep an integer result for integer operands (ONNX types follow the inputs). */
function binary(f: (a: Tensor, b: Tensor) => Tensor): OpHandler {
  return { layout: 'agnostic', run: (ctx) => f(need(ctx, 0, 'A'), need(ctx, 1, 'B')) };
}

/** Sum, Max, Min, Mean: any number of inputs, broadcast together. */
function variadic(f: (a: Tensor, b: Tensor) => Tensor, mean = false): OpHandler {
  return {
    layout: 'agnostic',
    run: (ctx) => {
      const xs = ctx.inputs.filter((t): t is Tensor => t !== undefined);
      if (xs.length === 0) throw new ValueError(`${ctx.where}: needs at least one input`);
      const y = xs.slice(1).reduce(f, xs[0]);
      return mean ? E.div(y, xs.length) : y;
    },
  };
}

function intDiv(a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== 'int32' || b.dtype !== 'int32') return E.div(a, b);
  // ONNX integer division truncates toward zero; a division by zero (undefined in ONNX, and what
  // the shape probe's zeros do) gives 0 rather than a NaN that int32 cannot hold.
  const q = E.div(E.cast(a, 'float32'), E.cast(b, 'float32'));
  const t = E.where(E.less(q, 0), E.ceil(q), E.floor(q));
  return E.cast(E.where(E.isFinite(t), t, 0), 'int32');
}

/** Softmax, LogSoftmax: opset 13 normalizes one axis; before, the flattened trailing axes. */
function softmaxFamily(f: (x: Tensor, axis: number) => Tensor): OpHandler {
  return {
    run: (ctx) => {
      const x = float(need(ctx, 0, 'input'));
      if (ctx.opset >= 13) return f(x, normAxis(ctx, ctx.attrs.int('axis', -1), x.rank));
      const axis = normAxis(ctx, ctx.attrs.int('axis', 1), x.rank);
      const outer = x.shape.slice(0, axis).reduce((n, d) => n * d, 1);
      return reshape(f(reshape(x, [outer, -1]), 1), x.shape);
    },
  };
}

function clip(ctx: OpContext): Tensor {
  const x = need(ctx, 0, 'input');
  // Opset 11 moved min and max from attributes to optional inputs, read at import (so that
  // fine-tuning does not train ReLU6's bounds).
  const lo = ctx.statics[1]?.[0] ?? (ctx.attrs.has('min') ? ctx.attrs.float('min', 0) : undefined);
  const hi = ctx.statics[2]?.[0] ?? (ctx.attrs.has('max') ? ctx.attrs.float('max', 0) : undefined);
  let y = x;
  if (lo !== undefined) y = E.maximum(y, E.cast(tensor([lo], [], 'float32'), x.dtype));
  if (hi !== undefined) y = E.minimum(y, E.cast(tensor([hi], [], 'float32'), x.dtype));
  return y;
}

/** Narrow float formats: mantissa bits, smallest normal exponent, largest finite value. */
const NARROW: Record<string, { bits: number; minExp: number; max: number }> = {
  FLOAT16: { bits: 10, minExp: -14, max: 65504 },
  BFLOAT16: { bits: 7, minExp: -126, max: 3.3895313892515355e38 },
};

/**
 * x rounded to a narrow float format (to nearest, ties to even, as IEEE casts do) and held in
 * float32: Strata computes in float32, so a Cast to float16 keeps the values a float16 would hold.
 */
function roundToFormat(x: Tensor, f: { bits: number; minExp: number; max: number }, truncate: boolean): Tensor {
  const ax = E.abs(x);
  // floor(log2 |x|), corrected by one where the logarithm's rounding lands on the wrong side of a power of two.
  let e = E.floor(E.div(E.log(E.maximum(ax, 1e-38)), Math.LN2));
  const p = E.pow(2, e);
  e = E.where(E.greaterEqual(ax, E.mul(p, 2)), E.add(e, 1), E.where(E.less(ax, p), E.sub(e, 1), e));
  // Below the smallest normal the spacing stays that of the subnormals.
  const ulp = E.pow(2, E.sub(E.maximum(e, f.minExp), f.bits));
  if (truncate) return E.where(E.isFinite(x), E.mul(E.sign(x), E.mul(E.floor(E.div(ax, ulp)), ulp)), x);
  const r = E.mul(E.round(E.div(x, ulp)), ulp);
  // Beyond the largest finite value (plus half a spacing) the cast overflows to infinity.
  const limit = f.max + 2 ** (Math.floor(Math.log2(f.max)) - f.bits - 1);
  const inf = E.mul(E.sign(x), Number.POSITIVE_INFINITY);
  return E.where(E.isFinite(x), E.where(E.greaterEqual(ax, limit), inf, r), x);
}

function castTo(ctx: OpContext): Tensor {
  const to = ctx.attrs.int('to', 1);
  const type = ONNX_DTYPES[to];
  const x = need(ctx, 0, 'input');
  const dtype = strataDtype(type ?? `code ${to}`, ctx.where);
  const narrow = type ? NARROW[type] : undefined;
  // bfloat16 before opset 19 drops the low 16 bits of the float32 (what ONNX's test data of those
  // opsets hold); float16, and bfloat16 from opset 19, round to nearest.
  if (narrow) return roundToFormat(float(x), narrow, type === 'BFLOAT16' && ctx.opset < 19);
  // ONNX casts floats to integers by truncation toward zero.
  if (dtype === 'int32' && x.dtype === 'float32') return E.cast(E.where(E.less(x, 0), E.ceil(x), E.floor(x)), 'int32');
  return E.cast(x, dtype);
}

export const ELEMENTWISE: Record<string, OpHandler> = {
  Relu: unary((x) => E.relu(x)),
  Sigmoid: unary((x) => E.sigmoid(float(x))),
  Tanh: unary((x) => E.tanh(float(x))),
  Exp: unary((x) => E.exp(float(x))),
  Log: unary((x) => E.log(float(x))),
  Sqrt: unary((x) => E.sqrt(float(x))),
  Abs: unary((x) => E.abs(x)),
  Neg: unary((x) => E.neg(x)),
  Sign: unary((x) => E.sign(x)),
  Floor: unary((x) => E.floor(x)),
  Ceil: unary((x) => E.ceil(x)),
  Reciprocal: unary((x) => E.div(1, float(x))),
  Sin: unary((x) => E.sin(float(x))),
  Cos: unary((x) => E.cos(float(x))),
  Erf: unary((x) => erf(float(x))),
  Not: unary((x) => E.logicalNot(x)),
  Identity: unary((x) => x),
  LeakyRelu: unary((x, ctx) => leakyRelu(x, ctx.attrs.float('alpha', 0.01))),
  Elu: unary((x, ctx) => elu(x, ctx.attrs.float('alpha', 1))),
  Selu: unary((x, ctx) => {
    const alpha = ctx.attrs.float('alpha', 1.6732632423543772);
    const gamma = ctx.attrs.float('gamma', 1.0507009873554805);
    if (!ctx.attrs.has('alpha') && !ctx.attrs.has('gamma')) return selu(x);
    return E.mul(gamma, E.where(E.greater(x, 0), x, E.mul(alpha, E.sub(E.exp(x), 1))));
  }),
  // ONNX's defaults (alpha 0.2, beta 0.5) differ from Keras 3's hardSigmoid (x / 6 + 0.5).
  HardSigmoid: unary((x, ctx) => E.clip(E.add(E.mul(x, ctx.attrs.float('alpha', 0.2)), ctx.attrs.float('beta', 0.5)), 0, 1)),
  HardSwish: unary((x) => E.mul(x, E.clip(E.add(E.div(x, 6), 0.5), 0, 1))),
  Softplus: unary((x) => E.softplus(float(x))),
  Softsign: unary((x) => softsign(x)),
  Gelu: unary((x, ctx) => gelu(x, ctx.attrs.string('approximate', 'none') === 'tanh')),
  Dropout: {
    layout: 'agnostic',
    run: (ctx) => {
      // Inference semantics always (Note [Fine-tuning an imported model] in build.ts): the mask is all true.
      const x = need(ctx, 0, 'data');
      return ctx.numOutputs > 1 ? [x, full(x.shape, 1, 'bool')] : x;
    },
  },
  Add: binary(E.add),
  Sub: binary(E.sub),
  Mul: binary(E.mul),
  Div: binary(intDiv),
  Pow: binary((a, b) =>
    a.dtype === 'float32' ? E.pow(a, E.cast(b, 'float32')) : E.cast(E.pow(E.cast(a, 'float32'), E.cast(b, 'float32')), a.dtype),
  ),
  PRelu: binary((x, slope) => E.where(E.less(x, 0), E.mul(x, slope), x)),
  Equal: binary(E.equal),
  Less: binary(E.less),
  LessOrEqual: binary(E.lessEqual),
  Greater: binary(E.greater),
  GreaterOrEqual: binary(E.greaterEqual),
  And: binary(E.logicalAnd),
  Or: binary(E.logicalOr),
  Xor: binary((a, b) => E.notEqual(a, b)),
  Max: variadic(E.maximum),
  Min: variadic(E.minimum),
  Sum: variadic(E.add),
  Mean: variadic(E.add, true),
  Where: { layout: 'agnostic', run: (ctx) => E.where(need(ctx, 0, 'condition'), need(ctx, 1, 'X'), need(ctx, 2, 'Y')) },
  Clip: { layout: 'agnostic', statics: [1, 2], run: clip },
  Cast: { layout: 'agnostic', run: castTo },
  Softmax: softmaxFamily(softmax),
  LogSoftmax: softmaxFamily(logSoftmax),
};
