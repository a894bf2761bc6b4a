import { typedArrayFor, type TypedArray } from '../../core/dtype.js';
import { sizeOf } from '../../core/shape.js';
import type { Kernel } from '../backend.js';

/** Softmax or log-softmax along `axis`, subtracting the maximum first so exp never overflows. */
function softmaxLike(log: boolean): Kernel<'softmax' | 'logSoftmax'> {
  return ([x], { axis }, out) => {
    const xs = x.data as TypedArray;
    const n = x.shape[axis];
    const inner = sizeOf(x.shape.slice(axis + 1));
    const outer = sizeOf(x.shape.slice(0, axis));
    const ys = typedArrayFor(out.dtype, xs.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let m = -Infinity;
        for (let j = 0; j < n; j++) m = Math.max(m, xs[base + j * inner]);
        if (m === -Infinity) m = 0; // an all -inf row: keep exp finite so the row becomes NaN only if it must
        let s = 0;
        for (let j = 0; j < n; j++) s += Math.exp(xs[base + j * inner] - m);
        const logS = Math.log(s);
        for (let j = 0; j < n; j++) {
          const z = xs[base + j * inner] - m;
          ys[base + j * inner] = log ? z - logS : Math.exp(z) / s;
        }
      }
    }
    return ys;
  };
}

export const softmaxKernel = softmaxLike(false);
export const logSoftmaxKernel = softmaxLike(true);
