import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { arange } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { asTensor, type TensorInput } from './operand.js';
import { gather, reshape, slice } from './shape-ops.js';

// Note [Strided slices]
// stridedSlice is TensorFlow's x[begin:end:stride, ...] with five bit masks, bit i applying to
// entry i of begin/end/strides: beginMask and endMask ignore begin[i] or end[i] (the whole
// range in that direction), ellipsisMask makes entry i stand for every axis no other entry names,
// newAxisMask inserts an axis of size 1, shrinkAxisMask takes the single index begin[i] and drops
// the axis. Without an ellipsis, the axes after the last entry are taken whole. Bounds follow
// Python: negative values count from the end and are clamped to the axis. The op is one slice of
// the covered block, then a gather along each axis whose stride is not 1 (negative strides
// included), then a reshape for the inserted and dropped axes; gradients come from those.

interface AxisPlan {
  start: number;
  count: number;
  step: number;
}

const bit = (mask: number, i: number) => ((mask >> i) & 1) === 1;

/** start, count and step of one regular entry over an axis of size n. */
function axisRange(n: number, b: number, e: number, s: number, ignoreBegin: boolean, ignoreEnd: boolean): AxisPlan {
  const clampTo = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  const start = ignoreBegin ? (s > 0 ? 0 : n - 1) : clampTo(b, s > 0 ? 0 : -1, s > 0 ? n : n - 1);
  const stop = ignoreEnd ? (s > 0 ? n : -1) : clampTo(e, s > 0 ? 0 : -1, s > 0 ? n : n - 1);
  const count = s > 0 ? Math.max(0, Math.ceil((stop - start) / s)) : Math.max(0, Math.ceil((start - stop) / -s));
  return { start, count, step: s };
}

/**
 * TensorFlow's strided slice: x[begin[i]:end[i]:strides[i]] on each axis, with the begin, end,
 * ellipsis, new-axis and shrink-axis bit masks (Note [Strided slices]); strides default to 1.
 * @throws ValueError for a zero stride, mismatched lengths or two ellipses; ShapeError when the
 * entries name more axes than x has or a shrunk index is out of range.
 */
export function stridedSlice(
  x: TensorInput,
  begin: readonly number[],
  end: readonly number[],
  strides?: readonly number[],
  beginMask = 0,
  endMask = 0,
  ellipsisMask = 0,
  newAxisMask = 0,
  shrinkAxisMask = 0,
): Tensor {
  const op = 'stridedSlice';
  const t = asTensor(op, 'x', x);
  const steps = strides ?? begin.map(() => 1);
  if (begin.length !== end.length || steps.length !== begin.length) {
    throw new ValueError(`${op}: begin, end and strides must have one length; received ${fmtValue(begin)}, ${fmtValue(end)}, ${fmtValue(strides)}`);
  }
  const entries = begin.length;
  const ellipses = Array.from({ length: entries }, (_, i) => i).filter((i) => bit(ellipsisMask, i));
  if (ellipses.length > 1) throw new ValueError(`${op}: ellipsisMask may set one bit; received ${ellipsisMask}`);
  const isNew = (i: number) => bit(newAxisMask, i) && !bit(ellipsisMask, i);
  const regular = Array.from({ length: entries }, (_, i) => i).filter((i) => !isNew(i) && !bit(ellipsisMask, i)).length;
  if (regular > t.rank) throw new ShapeError(`${op}: ${regular} sliced entries for x of shape ${fmtShape(t.shape)}`);
  const ellipsisAt = ellipses.length ? ellipses[0] : entries; // an implicit ellipsis after the last entry

  const plans: AxisPlan[] = [];
  const outShape: number[] = [];
  let axis = 0;
  const whole = () => {
    plans.push({ start: 0, count: t.shape[axis], step: 1 });
    outShape.push(t.shape[axis++]);
  };
  for (let i = 0; i <= entries; i++) {
    if (i === ellipsisAt) {
      for (let k = 0; k < t.rank - regular; k++) whole();
      if (i === entries) break;
      continue;
    }
    if (i === entries) break;
    if (isNew(i)) {
      outShape.push(1);
      continue;
    }
    const n = t.shape[axis];
    if (bit(shrinkAxisMask, i)) {
      const index = begin[i] < 0 ? begin[i] + n : begin[i];
      if (!Number.isInteger(index) || index < 0 || index >= n) {
        throw new ShapeError(`${op}: index ${begin[i]} (entry ${i}) is out of range for axis ${axis} of size ${n}`);
      }
      plans.push({ start: index, count: 1, step: 1 });
      axis++;
      continue;
    }
    const s = steps[i];
    if (!Number.isInteger(s) || s === 0) throw new ValueError(`${op}: strides must be non-zero integers; received ${fmtValue(steps)}`);
    const plan = axisRange(n, begin[i], end[i], s, bit(beginMask, i), bit(endMask, i));
    plans.push(plan);
    outShape.push(plan.count);
    axis++;
  }

  // One slice of the block the entries cover, then a gather per axis that steps by other than 1.
  const lows = plans.map((p) => (p.count === 0 ? 0 : p.step > 0 ? p.start : p.start + (p.count - 1) * p.step));
  const sizes = plans.map((p) => (p.count === 0 ? 0 : (p.count - 1) * Math.abs(p.step) + 1));
  let y = slice(t, lows, sizes);
  plans.forEach((p, k) => {
    if (p.count > 1 && p.step !== 1) {
      const first = p.step > 0 ? 0 : sizes[k] - 1;
      y = gather(y, arange(first, first + p.count * p.step, p.step, 'int32'), k);
    }
  });
  return reshape(y, outShape);
}
