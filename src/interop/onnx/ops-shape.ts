// Shape and data-movement operators, and the reductions. Their shape-like inputs (Reshape's
// shape, Slice's starts, Pad's pads, ...) are read at import time (`statics`), so the model's
// graph holds only tensors of data.
import { ValueError } from '../../core/errors.js';
import { broadcastShapes } from '../../core/shape.js';
import { add, cast, less, where } from '../../ops/elementwise.js';
import { max, mean, min, prod, sum } from '../../ops/reduction.js';
import { broadcastTo, concat, gather, pad, reshape, slice, split, transpose } from '../../ops/shape-ops.js';
import { full, tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { need, needStatic, normAxis, type OpContext, type OpHandler } from './op-context.js';
import { strataDtype } from './tensors.js';

function reshapeOp(ctx: OpContext): Tensor {
  const x = need(ctx, 0, 'data');
  // Reshape took its shape as an attribute before opset 5.
  const target = ctx.statics[1] ?? ctx.attrs.ints('shape') ?? needStatic(ctx, 1, 'shape');
  const allowZero = ctx.attrs.int('allowzero', 0) === 1;
  // 0 copies the input's dimension (unless allowzero); -1 is inferred.
  const shape = target.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
  return reshape(x, shape);
}

function flattenOp(ctx: OpContext): Tensor {
  const x = need(ctx, 0, 'input');
  // Flatten's axis may equal the rank (everything in the outer dimension).
  const a = ctx.attrs.int('axis', 1);
  const axis = normAxis(ctx, a < 0 ? a + x.rank : a, x.rank + 1);
  const outer = x.shape.slice(0, axis).reduce((n, d) => n * d, 1);
  const inner = x.shape.slice(axis).reduce((n, d) => n * d, 1);
  return reshape(x, [outer, inner]);
}

function transposeOp(ctx: OpContext): Tensor {
  const x = need(ctx, 0, 'data');
  const perm = ctx.attrs.ints('perm') ?? Array.from({ length: x.rank }, (_, i) => x.rank - 1 - i);
  return transpose(x, perm);
}

function concatOp(ctx: OpContext): Tensor {
  const xs = ctx.inputs.filter((t): t is Tensor => t !== undefined);
  const dtype = xs.some((t) => t.dtype === 'float32') ? 'float32' : xs[0].dtype;
  return concat(
    xs.map((t) => (t.dtype === dtype ? t : cast(t, dtype))),
    // Channels-last values (Note [Channels-last inside, ONNX shapes outside]): ONNX's axis 1 is the last.
    ctx.channelsLast ? [0, 3, 1, 2][normAxis(ctx, ctx.attrs.int('axis', 0), 4)] : normAxis(ctx, ctx.attrs.int('axis', 0), xs[0].rank),
  );
}

function splitOp(ctx: OpContext): Tensor[] {
  const x = need(ctx, 0, 'input');
  const axis = normAxis(ctx, ctx.attrs.int('axis', 0), x.rank);
  const sizes = ctx.statics[1] ?? ctx.attrs.ints('split');
  if (sizes) return split(x, sizes, axis);
  const n = ctx.numOutputs;
  const chunk = Math.ceil(x.shape[axis] / n);
  const parts = Array.from({ length: n }, (_, i) => Math.max(Math.min(chunk, x.shape[axis] - i * chunk), 0));
  return split(x, parts, axis);
}

/** A strided slice along one axis; a negative step reads backwards (ONNX's clamping rules). */
function sliceAxis(x: Tensor, axis: number, start: number, end: number, step: number): Tensor {
  const n = x.shape[axis];
  const norm = (v: number) => (v < 0 ? v + n : v);
  let s = norm(start);
  let e = norm(end);
  if (step > 0) {
    s = Math.min(Math.max(s, 0), n);
    e = Math.min(Math.max(e, 0), n);
  } else {
    s = Math.min(Math.max(s, -1), n - 1);
    e = Math.min(Math.max(e, -1), n - 1);
  }
  const count = Math.max(0, Math.ceil((e - s) / step));
  if (step === 1) {
    const begin = x.shape.map((_, i) => (i === axis ? s : 0));
    const size = x.shape.map((d, i) => (i === axis ? count : d));
    return slice(x, begin, size);
  }
  const idx = Int32Array.from({ length: count }, (_, i) => s + i * step);
  return gather(x, tensor(idx, [count], 'int32'), axis);
}

function sliceOp(ctx: OpContext): Tensor {
  let x = need(ctx, 0, 'data');
  // Opset 10 moved starts, ends, axes and steps from attributes to inputs.
  const starts = ctx.statics[1] ?? ctx.attrs.ints('starts', []);
  const ends = ctx.statics[2] ?? ctx.attrs.ints('ends', []);
  const axes = ctx.statics[3] ?? ctx.attrs.ints('axes') ?? starts.map((_, i) => i);
  const steps = ctx.statics[4] ?? starts.map(() => 1);
  if (steps.some((s) => s === 0)) throw new ValueError(`${ctx.where}: a step of 0`);
  axes.forEach((a, i) => {
    x = sliceAxis(x, normAxis(ctx, a, x.rank), starts[i], ends[i], steps[i]);
  });
  return x;
}

function gatherOp(ctx: OpContext): Tensor {
  const x = need(ctx, 0, 'data');
  const axis = normAxis(ctx, ctx.attrs.int('axis', 0), x.rank);
  let idx = need(ctx, 1, 'indices');
  idx = idx.dtype === 'int32' ? idx : cast(idx, 'int32');
  // Negative indices count from the end.
  idx = where(less(idx, 0), add(idx, x.shape[axis]), idx);
  return gather(x, idx, axis);
}

function axesOf(ctx: OpContext): number[] | undefined {
  return ctx.statics[1] ?? ctx.attrs.ints('axes');
}

function unsqueezeOp(ctx: OpContext): Tensor {
  const x = need(ctx, 0, 'data');
  const axes = axesOf(ctx) ?? [];
  const rank = x.rank + axes.length;
  const set = new Set(axes.map((a) => normAxis(ctx, a, rank)));
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(set.has(i) ? 1 : x.shape[k++]);
  return reshape(x, shape);
}

function squeezeOp(ctx: OpContext): Tensor {
  const x = need(ctx, 0, 'data');
  const axes = axesOf(ctx);
  const set = new Set((axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(ctx, a, x.rank)));
  for (const a of set) if (x.shape[a] !== 1) throw new ValueError(`${ctx.where}: cannot squeeze axis ${a} of size ${x.shape[a]}`);
  return reshape(
    x,
    x.shape.filter((_, i) => !set.has(i)),
  );
}

function expandOp(ctx: OpContext): Tensor {
  const x = need(ctx, 0, 'input');
  return broadcastTo(x, broadcastShapes(ctx.where, x.shape, needStatic(ctx, 1, 'shape')));
}

function padOp(ctx: OpContext): Tensor {
  const x = need(ctx, 0, 'data');
  const pads = ctx.statics[1] ?? ctx.attrs.ints('pads', []);
  const mode = ctx.attrs.string('mode', 'constant');
  const r = x.rank;
  const axes = ctx.statics[3]?.map((a) => normAxis(ctx, a, r)) ?? Array.from({ length: r }, (_, i) => i);
  const pairs: [number, number][] = x.shape.map(() => [0, 0]);
  axes.forEach((a, i) => {
    pairs[a] = [pads[i], pads[i + axes.length]];
  });
  // Negative pads crop.
  let y = x;
  if (pairs.some(([b, e]) => b < 0 || e < 0)) {
    y = slice(
      y,
      pairs.map(([b]) => Math.max(-b, 0)),
      y.shape.map((d, i) => d - Math.max(-pairs[i][0], 0) - Math.max(-pairs[i][1], 0)),
    );
  }
  const grow = pairs.map(([b, e]) => [Math.max(b, 0), Math.max(e, 0)] as [number, number]);
  if (mode === 'constant') {
    const value = ctx.statics[2]?.[0] ?? ctx.attrs.float('value', 0);
    return pad(y, grow, value);
  }
  if (mode !== 'reflect' && mode !== 'edge') throw new ValueError(`${ctx.where}: pad mode '${mode}' is not supported`);
  // reflect and edge: gather each axis through an index map.
  grow.forEach(([b, e], a) => {
    if (b === 0 && e === 0) return;
    const n = y.shape[a];
    const idx = Int32Array.from({ length: n + b + e }, (_, i) => {
      let j = i - b;
      if (mode === 'edge') return Math.min(Math.max(j, 0), n - 1);
      const period = 2 * (n - 1) || 1;
      j = ((j % period) + period) % period;
      return j < n ? j : period - j;
    });
    y = gather(y, tensor(idx, [idx.length], 'int32'), a);
  });
  return y;
}

function shapeOp(ctx: OpContext): Tensor {
  const x = need(ctx, 0, 'data');
  const r = x.rank;
  const clampAxis = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clampAxis(ctx.attrs.int('start', 0));
  const end = clampAxis(ctx.attrs.int('end', r));
  const dims = x.shape.slice(start, Math.max(end, start));
  return tensor(Int32Array.from(dims), [dims.length], 'int32');
}

function constantOfShape(ctx: OpContext): Tensor {
  const shape = needStatic(ctx, 0, 'input');
  const v = ctx.attrs.tensor('value');
  const dtype = v ? strataDtype(v.onnxType, ctx.where) : 'float32';
  return full(shape, v ? v.values[0] : 0, dtype);
}

function reduce(f: (x: Tensor, axes: number[], keep: boolean) => Tensor, axesAsInputFrom: number): OpHandler {
  return {
    statics: [1],
    run: (ctx) => {
      let x = need(ctx, 0, 'data');
      if (f !== max && f !== min && x.dtype !== 'float32') x = cast(x, 'float32');
      const given = ctx.opset >= axesAsInputFrom ? ctx.statics[1] : ctx.attrs.ints('axes');
      const keep = ctx.attrs.int('keepdims', 1) === 1;
      if (!given || given.length === 0) {
        if (ctx.attrs.int('noop_with_empty_axes', 0) === 1) return x;
        return f(
          x,
          Array.from({ length: x.rank }, (_, i) => i),
          keep,
        );
      }
      return f(
        x,
        given.map((a) => normAxis(ctx, a, x.rank)),
        keep,
      );
    },
  };
}

export const SHAPE: Record<string, OpHandler> = {
  Reshape: { statics: [1], run: reshapeOp },
  Flatten: { run: flattenOp },
  Transpose: { run: transposeOp },
  Concat: { layout: 'agnostic', run: concatOp },
  Split: { statics: [1], run: splitOp },
  Slice: { statics: [1, 2, 3, 4], run: sliceOp },
  Gather: { run: gatherOp },
  Unsqueeze: { statics: [1], run: unsqueezeOp },
  Squeeze: { statics: [1], run: squeezeOp },
  Expand: { statics: [1], run: expandOp },
  Pad: { statics: [1, 2, 3], run: padOp },
  Shape: { run: shapeOp },
  ConstantOfShape: { statics: [0], run: constantOfShape },
  ReduceSum: reduce(sum, 13),
  ReduceMean: reduce(mean, 18),
  ReduceMax: reduce(max, 18),
  ReduceMin: reduce(min, 18),
  ReduceProd: reduce(prod, 18),
};
