import { ValueError, fmtValue } from '../../core/errors.js';
import type { Shape } from '../../core/shape.js';
import type { Kernel, OptionalKernels } from '../backend.js';
import type { WasmContext } from './context.js';

// Softmax, log-softmax, their one-pass gradients and sparse softmax cross-entropy on the wasm
// backend (wasm/src/softmax.c), float32 along any axis, as native/src/softmax.cc.

/** The shape around `axis`: [outer, n, inner]. */
function aroundAxis(shape: Shape, axis: number): [number, number, number] {
  const prod = (s: Shape) => s.reduce((p, d) => p * d, 1);
  return [prod(shape.slice(0, axis)), shape[axis], prod(shape.slice(axis + 1))];
}

export function softmaxKernels(ctx: WasmContext): OptionalKernels {
  const softmax =
    (log: boolean): Kernel<'softmax' | 'logSoftmax'> =>
    ([x], { axis }) => {
      const [outer, n, inner] = aroundAxis(x.shape, axis);
      const y = ctx.newStorage('float32', outer * n * inner);
      if (outer * n * inner > 0) ctx.parallel('softmax_axis', [ctx.ptrOf(x.data), y.ptr, outer, n, inner, +log], outer * n * inner * 4);
      return y.handle;
    };
  const grad =
    (log: boolean): Kernel<'softmaxGrad' | 'logSoftmaxGrad'> =>
    ([y, g], { axis }) => {
      const [outer, n, inner] = aroundAxis(y.shape, axis);
      const dx = ctx.newStorage('float32', outer * n * inner);
      if (outer * n * inner > 0)
        ctx.parallel('softmax_grad_axis', [ctx.ptrOf(y.data), ctx.ptrOf(g.data), dx.ptr, outer, n, inner, +log], outer * n * inner * 3);
      return dx.handle;
    };
  // A label outside [0, classes) is refused before the kernel reads z[label], with the message the
  // composite path writes (src/ops/losses.ts).
  const checkLabels = (labels: number, rows: number, classes: number) => {
    const view = ctx.i32(labels, rows);
    for (let i = 0; i < rows; i++) {
      const v = view[i];
      if (v < 0 || v >= classes)
        throw new ValueError(
          `sparseCategoricalCrossentropy: labels must be class indices in [0, ${classes}); received ${fmtValue(v)} at sample ${i}`,
        );
    }
  };
  const xent = (z: number, labels: number, g: number, rows: number, classes: number) => {
    checkLabels(labels, rows, classes);
    const out = ctx.newStorage('float32', g ? rows * classes : rows);
    if (rows > 0) ctx.parallel('sparse_xent', [z, labels, g, out.ptr, rows, classes], rows * classes * (g ? 3 : 2));
    return out.handle;
  };
  return {
    softmax: softmax(false),
    logSoftmax: softmax(true),
    softmaxGrad: grad(false),
    logSoftmaxGrad: grad(true),
    sparseSoftmaxCrossEntropy: ([z, labels]) => xent(ctx.ptrOf(z.data), ctx.ptrOf(labels.data), 0, z.shape[0], z.shape[1]),
    sparseSoftmaxCrossEntropyGrad: ([z, labels, g]) => xent(ctx.ptrOf(z.data), ctx.ptrOf(labels.data), ctx.ptrOf(g.data), z.shape[0], z.shape[1]),
  };
}
