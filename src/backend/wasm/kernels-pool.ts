import type { Shape } from '../../core/shape.js';
import type { OptionalKernels } from '../backend.js';
import type { Pool2dAttrs } from '../primitives.js';
import type { WasmContext } from './context.js';

// Max and average pooling on the wasm backend (wasm/src/pool.c), NHWC, as the reference backend:
// windows never read padding, max pooling's gradient goes to each window's first maximum. The
// forward kernel does not keep the winners (keepIndices is an option a kernel may ignore, Note
// [Max pooling keeps its winners]), so maxPool2dGrad finds them again in x and ignores y.

/** The 12 geometry arguments of the C kernels: x's shape, the window, strides, pads, output size. */
const geometry = (x: Shape, y: Shape, a: Pool2dAttrs): number[] => [
  x[0],
  x[1],
  x[2],
  x[3],
  ...a.poolSize,
  ...a.strides,
  a.pads.top,
  a.pads.left,
  y[1],
  y[2],
];

export function poolKernels(ctx: WasmContext): OptionalKernels {
  const size = (s: Shape) => s.reduce((p, d) => p * d, 1);
  const window = (a: Pool2dAttrs) => a.poolSize[0] * a.poolSize[1];
  const forward =
    (kernel: string): OptionalKernels['avgPool2d'] =>
    ([x], attrs, out) => {
      const y = ctx.newStorage('float32', size(out.shape));
      if (size(out.shape) > 0)
        ctx.parallel(kernel, [ctx.ptrOf(x.data), y.ptr, ...geometry(x.shape, out.shape, attrs)], size(out.shape) * window(attrs));
      return y.handle;
    };
  return {
    maxPool2d: forward('max_pool2d') as OptionalKernels['maxPool2d'],
    avgPool2d: forward('avg_pool2d'),
    maxPool2dGrad: ([x, dy], attrs) => {
      const dx = ctx.newStorage('float32', size(x.shape));
      if (size(x.shape) > 0) {
        const args = [ctx.ptrOf(x.data), ctx.ptrOf(dy.data), dx.ptr, +(attrs.reluMasked === true), ...geometry(x.shape, dy.shape, attrs)];
        ctx.parallel('max_pool2d_grad', args, size(dy.shape) * window(attrs) + size(x.shape));
      }
      return dx.handle;
    },
    avgPool2dGrad: ([dy], attrs) => {
      const xs = attrs.inputShape;
      const dx = ctx.newStorage('float32', size(xs));
      if (size(xs) > 0)
        ctx.parallel('avg_pool2d_grad', [ctx.ptrOf(dy.data), dx.ptr, ...geometry(xs, dy.shape, attrs)], size(dy.shape) * window(attrs) + size(xs));
      return dx.handle;
    },
  };
}
