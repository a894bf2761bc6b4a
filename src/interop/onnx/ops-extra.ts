// Operators beyond the first list that map directly onto Strata ops: arg reductions, the other
// reductions, trigonometry, rounding and tests, cumulative sums, tiling, ranges, depth/space
// moves, instance normalization, GatherElements, Trilu, Einsum, TopK.
import { isInf, mod } from '../../ops/arithmetic-extra.js';
import * as E from '../../ops/elementwise.js';
import { einsum } from '../../ops/einsum.js';
import { acos, acosh, asin, asinh, atan, atanh, cosh, sinh, tan } from '../../ops/math-extra.js';
import { logSumExp } from '../../ops/nn.js';
import { takeAlongAxis, tril, triu } from '../../ops/numpy-extra.js';
import { argMax, argMin, mean, sum } from '../../ops/reduction.js';
import { cumsum } from '../../ops/scan.js';
import { reverse } from '../../ops/indexing.js';
import { depthToSpace, spaceToDepth } from '../../ops/space.js';
import { reshape, tile, transpose } from '../../ops/shape-ops.js';
import { topk } from '../../ops/sorting.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { need, needStatic, normAxis, type OpContext, type OpHandler } from './op-context.js';

const float = (t: Tensor) => (t.dtype === 'float32' ? t : E.cast(t, 'float32'));
const unary = (f: (x: Tensor) => Tensor): OpHandler => ({ layout: 'agnostic', run: (ctx) => f(need(ctx, 0, 'input')) });

function argReduce(kind: 'max' | 'min'): OpHandler {
  return {
    run: (ctx) => {
      let x = float(need(ctx, 0, 'data'));
      const axis = normAxis(ctx, ctx.attrs.int('axis', 0), x.rank);
      const keep = ctx.attrs.int('keepdims', 1) === 1;
      // select_last_index: the last extreme wins; reversing the axis turns it into the first.
      const last = ctx.attrs.int('select_last_index', 0) === 1;
      if (last) x = reverse(x, axis);
      let i = kind === 'max' ? argMax(x, axis, keep) : argMin(x, axis, keep);
      if (last) i = E.sub(x.shape[axis] - 1, i);
      return i;
    },
  };
}

/** Reductions built on a sum or a log-sum-exp: axes from the attribute (input from opset 18). */
function reduceWith(f: (x: Tensor, axes: number[], keep: boolean) => Tensor): OpHandler {
  return {
    statics: [1],
    run: (ctx) => {
      const x = float(need(ctx, 0, 'data'));
      const given = ctx.opset >= 18 ? ctx.statics[1] : ctx.attrs.ints('axes');
      const keep = ctx.attrs.int('keepdims', 1) === 1;
      if ((!given || given.length === 0) && ctx.attrs.int('noop_with_empty_axes', 0) === 1) return x;
      const axes = given?.length ? given.map((a) => normAxis(ctx, a, x.rank)) : Array.from({ length: x.rank }, (_, i) => i);
      return f(x, axes, keep);
    },
  };
}

function cumsumOp(ctx: OpContext): Tensor {
  const x = need(ctx, 0, 'x');
  const axis = normAxis(ctx, needStatic(ctx, 1, 'axis')[0], x.rank);
  return cumsum(x, axis, ctx.attrs.int('exclusive', 0) === 1, ctx.attrs.int('reverse', 0) === 1);
}

function rangeOp(ctx: OpContext): Tensor {
  const [start, limit, delta] = [0, 1, 2].map((i) => needStatic(ctx, i, ['start', 'limit', 'delta'][i])[0]);
  // A delta of 0 (undefined in ONNX, and what the shape probe's zeros give) yields an empty range.
  const n = delta === 0 ? 0 : Math.max(Math.ceil((limit - start) / delta), 0);
  return tensor(
    Float32Array.from({ length: n }, (_, i) => start + i * delta),
    [n],
    'float32',
  );
}

function instanceNorm(ctx: OpContext): Tensor {
  const x = float(need(ctx, 0, 'input'));
  const eps = ctx.attrs.float('epsilon', 1e-5);
  const axes = Array.from({ length: x.rank - 2 }, (_, i) => i + 2);
  const mu = mean(x, axes, true);
  const centered = E.sub(x, mu);
  const y = E.div(centered, E.sqrt(E.add(mean(E.mul(centered, centered), axes, true), eps)));
  const at = [x.shape[1], ...new Array(x.rank - 2).fill(1)];
  return E.add(E.mul(y, reshape(float(need(ctx, 1, 'scale')), at)), reshape(float(need(ctx, 2, 'B')), at));
}

function space(kind: 'd2s' | 's2d'): OpHandler {
  return {
    run: (ctx) => {
      const x = need(ctx, 0, 'input');
      const b = ctx.attrs.int('blocksize', 2);
      if (kind === 's2d') return spaceToDepth(x, b, 'NCHW');
      // DCR (default) is TensorFlow's order; CRD takes the channel as the outer index.
      if (ctx.attrs.string('mode', 'DCR') === 'DCR') return depthToSpace(x, b, 'NCHW');
      const [n, c, h, w] = x.shape;
      const t = transpose(reshape(x, [n, c / (b * b), b, b, h, w]), [0, 1, 4, 2, 5, 3]);
      return reshape(t, [n, c / (b * b), h * b, w * b]);
    },
  };
}

function topkOp(ctx: OpContext): Tensor[] {
  const x = need(ctx, 0, 'X');
  const k = needStatic(ctx, 1, 'K')[0];
  const axis = normAxis(ctx, ctx.attrs.int('axis', -1), x.rank);
  const largest = ctx.attrs.int('largest', 1) === 1;
  const last = x.rank - 1;
  const moved = axis === last ? x : transpose(x, swap(x.rank, axis));
  const r = topk(largest ? moved : E.neg(moved), k);
  let values = largest ? r.values : E.neg(r.values);
  let indices = r.indices;
  if (axis !== last) [values, indices] = [transpose(values, swap(x.rank, axis)), transpose(indices, swap(x.rank, axis))];
  return [values, indices];
}

const swap = (rank: number, axis: number) => Array.from({ length: rank }, (_, i) => (i === axis ? rank - 1 : i === rank - 1 ? axis : i));

export const EXTRA: Record<string, OpHandler> = {
  ArgMax: argReduce('max'),
  ArgMin: argReduce('min'),
  ReduceL1: reduceWith((x, a, k) => sum(E.abs(x), a, k)),
  ReduceL2: reduceWith((x, a, k) => E.sqrt(sum(E.mul(x, x), a, k))),
  ReduceSumSquare: reduceWith((x, a, k) => sum(E.mul(x, x), a, k)),
  ReduceLogSum: reduceWith((x, a, k) => E.log(sum(x, a, k))),
  ReduceLogSumExp: reduceWith((x, a, k) => logSumExp(x, a, k)),
  Tan: unary((x) => tan(float(x))),
  Asin: unary((x) => asin(float(x))),
  Acos: unary((x) => acos(float(x))),
  Atan: unary((x) => atan(float(x))),
  Sinh: unary((x) => sinh(float(x))),
  Cosh: unary((x) => cosh(float(x))),
  Asinh: unary((x) => asinh(float(x))),
  Acosh: unary((x) => acosh(float(x))),
  Atanh: unary((x) => atanh(float(x))),
  // Strata's round, like ONNX's, sends halves to the even neighbour.
  Round: unary((x) => E.round(x)),
  IsNaN: unary((x) => E.isNaN(x)),
  IsInf: {
    layout: 'agnostic',
    run: (ctx) => {
      const x = float(need(ctx, 0, 'X'));
      const [pos, neg] = [ctx.attrs.int('detect_positive', 1), ctx.attrs.int('detect_negative', 1)];
      if (pos && neg) return isInf(x);
      if (pos) return E.equal(x, Number.POSITIVE_INFINITY);
      if (neg) return E.equal(x, Number.NEGATIVE_INFINITY);
      return E.notEqual(x, x);
    },
  },
  Celu: {
    layout: 'agnostic',
    run: (ctx) => {
      const x = float(need(ctx, 0, 'X'));
      const alpha = ctx.attrs.float('alpha', 1);
      return E.add(E.relu(x), E.minimum(0, E.mul(alpha, E.sub(E.exp(E.div(x, alpha)), 1))));
    },
  },
  ThresholdedRelu: {
    layout: 'agnostic',
    run: (ctx) => {
      const x = need(ctx, 0, 'X');
      return E.where(E.greater(x, ctx.attrs.float('alpha', 1)), x, 0);
    },
  },
  Mod: {
    layout: 'agnostic',
    run: (ctx) => {
      const [a, b] = [need(ctx, 0, 'A'), need(ctx, 1, 'B')];
      if (ctx.attrs.int('fmod', 0) === 0 && a.dtype === 'float32') return mod(a, b);
      // Integers go through float32 (exact below 2^24), so that a zero divisor (undefined in
      // ONNX, and what the shape probe's zeros give) yields 0 instead of an error. fmod: the
      // remainder takes the dividend's sign; mod: the divisor's.
      const [fa, fb] = [float(a), float(b)];
      const q = E.div(fa, fb);
      const whole = ctx.attrs.int('fmod', 0) === 1 ? E.where(E.less(q, 0), E.ceil(q), E.floor(q)) : E.floor(q);
      const r = E.sub(fa, E.mul(whole, fb));
      return a.dtype === 'float32' ? r : E.cast(E.where(E.isFinite(r), r, 0), a.dtype);
    },
  },
  CumSum: { statics: [1], run: cumsumOp },
  Tile: { statics: [1], run: (ctx) => tile(need(ctx, 0, 'input'), needStatic(ctx, 1, 'repeats')) },
  Range: { statics: [0, 1, 2], run: rangeOp },
  Size: { run: (ctx) => tensor([need(ctx, 0, 'data').size], [], 'int32') },
  InstanceNormalization: { run: instanceNorm },
  DepthToSpace: space('d2s'),
  SpaceToDepth: space('s2d'),
  GatherElements: {
    run: (ctx) => {
      const x = need(ctx, 0, 'data');
      const axis = normAxis(ctx, ctx.attrs.int('axis', 0), x.rank);
      let idx = E.cast(need(ctx, 1, 'indices'), 'int32');
      idx = E.where(E.less(idx, 0), E.add(idx, x.shape[axis]), idx);
      return takeAlongAxis(x, idx, axis);
    },
  },
  Trilu: {
    statics: [1],
    run: (ctx) => {
      const k = ctx.statics[1]?.[0] ?? 0;
      return ctx.attrs.int('upper', 1) === 1 ? triu(need(ctx, 0, 'input'), k) : tril(need(ctx, 0, 'input'), k);
    },
  },
  Einsum: {
    run: (ctx) => {
      const xs = ctx.inputs.filter((t): t is Tensor => t !== undefined);
      return einsum(ctx.attrs.string('equation', ''), ...xs.map((t) => (xs.some((u) => u.dtype === 'float32') ? float(t) : t)));
    },
  },
  TopK: { statics: [1], run: topkOp },
};
