import { fitsInt32, fmtIndex, int32OverflowError, typedArrayFor, type TypedArray } from '../../core/dtype.js';
import { sizeOf, stridesOf } from '../../core/shape.js';
import type { Kernel } from '../backend.js';
import type { ReducePrimitive } from '../primitives.js';
import { forEachOffset2 } from './iterate.js';

interface Reducer {
  init: number;
  step: (acc: number, x: number) => number;
}

const REDUCERS: Record<ReducePrimitive, Reducer> = {
  sum: { init: 0, step: (acc, x) => acc + x },
  prod: { init: 1, step: (acc, x) => acc * x },
  // NaN wins, as in NumPy's max/min.
  max: { init: -Infinity, step: (acc, x) => (x > acc || x !== x ? x : acc) },
  min: { init: Infinity, step: (acc, x) => (x < acc || x !== x ? x : acc) },
};

// Note [int32 reductions]
// An int32 sum or product is computed exactly and refused with a DtypeError when the result
// leaves the int32 range, instead of wrapping (NumPy and PyTorch sum int32 in int64, which we do
// not have as a dtype; the message suggests casting to float32 first). max and min cannot
// overflow; mean casts to float first. Exactness:
//   - sum: float64 holds integers exactly only up to 2^53, which 2^22 values near 2^31 pass, so
//     the reference backend sums each value's high and low 16 bits separately (each partial sum
//     stays exact for 2^37 values) and joins them once; native sums in int64.
//   - prod: once a partial product of integers leaves the range, the result can only come back
//     by meeting a zero, so float64 is exact whenever the result fits; the one trap is a product
//     that overflowed to ±Infinity before the zero (Infinity * 0 is NaN), which is 0.

/**
 * Reduces over `axes` in one pass over the input: each input element is folded into the output
 * slot its kept coordinates name. Accumulates in float64 so float32 sums keep their precision.
 */
export function reduceKernel(op: ReducePrimitive): Kernel<ReducePrimitive> {
  const { init, step } = REDUCERS[op];
  return ([x], { axes }, out) => {
    const xs = x.data as TypedArray;
    const acc = new Float64Array(sizeOf(out.shape)).fill(init);
    // Output strides laid over the input's dimensions, 0 along reduced ones.
    const keptStrides = stridesOf(x.shape.filter((_, i) => !axes.includes(i)));
    const outStrides: number[] = [];
    let k = 0;
    x.shape.forEach((_, i) => outStrides.push(axes.includes(i) ? 0 : keptStrides[k++]));
    const exactInt = out.dtype === 'int32' && (op === 'sum' || op === 'prod');
    if (exactInt && op === 'sum') {
      // Note [int32 reductions]: high and low halves, each exact, joined once per slot.
      const low = new Float64Array(acc.length);
      forEachOffset2(x.shape, outStrides, outStrides, (i, o) => {
        const v = xs[i];
        acc[o] += v >> 16;
        low[o] += v & 0xffff;
      });
      for (let o = 0; o < acc.length; o++) acc[o] = acc[o] * 65536 + low[o];
    } else {
      forEachOffset2(x.shape, outStrides, outStrides, (i, o) => {
        acc[o] = step(acc[o], xs[i]);
      });
    }
    if (exactInt) {
      const kept = x.shape.filter((_, i) => !axes.includes(i));
      for (let o = 0; o < acc.length; o++) {
        if (op === 'prod' && acc[o] !== acc[o]) acc[o] = 0; // ±Infinity times a zero factor
        if (!fitsInt32(acc[o])) throw int32OverflowError(op, acc[o], fmtIndex(o, kept));
      }
    }
    const ys = typedArrayFor(out.dtype, acc.length);
    ys.set(acc);
    return ys;
  };
}

/** argMax/argMin along one axis; the first occurrence wins ties, NaN counts as the extreme. */
export function argReduceKernel(better: (x: number, best: number) => boolean): Kernel<'argMax' | 'argMin'> {
  return ([x], { axis }, out) => {
    const xs = x.data as TypedArray;
    const n = x.shape[axis];
    const inner = sizeOf(x.shape.slice(axis + 1));
    const outer = sizeOf(x.shape.slice(0, axis));
    const ys = typedArrayFor(out.dtype, outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let best = xs[base],
          bestAt = 0;
        for (let j = 1; j < n && best === best; j++) {
          const v = xs[base + j * inner];
          if (better(v, best) || v !== v) {
            best = v;
            bestAt = j;
          }
        }
        ys[o * inner + i] = bestAt;
      }
    }
    return ys;
  };
}
