import { typedArrayFor, type TypedArray } from '../../core/dtype.js';
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
    forEachOffset2(x.shape, outStrides, outStrides, (i, o) => {
      acc[o] = step(acc[o], xs[i]);
    });
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
        let best = xs[base], bestAt = 0;
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
