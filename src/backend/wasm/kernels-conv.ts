import type { Shape } from '../../core/shape.js';
import type { OptionalKernels } from '../backend.js';
import type { Conv2dAttrs } from '../primitives.js';
import type { WasmContext } from './context.js';
import { gemmWork, workspaceOf } from './kernels-matmul.js';

// 2-D convolutions on the wasm backend: im2col chunks multiplied by the packed SGEMM (Note [WASM
// convolution by im2col] in wasm/src/conv.c). Operands as on native: (x, filter) forward,
// (dy, filter) for the input gradient, (x, dy) for the filter's.

/** Floats of im2col rows a workspace slot aims to hold (1 MiB), and the fewest rows per chunk. */
const COLS_FLOATS = 1 << 18;
const MIN_ROWS = 96;

/** The 15 geometry arguments the C kernels take after their pointers. */
function geometry(x: Shape, f: Shape, y: Shape, a: Conv2dAttrs): number[] {
  return [x[0], x[1], x[2], x[3], f[0], f[1], f[3], y[1], y[2], ...a.strides, ...a.dilation, a.pads.top, a.pads.left];
}

export function convKernels(ctx: WasmContext): OptionalKernels {
  const gemmFloats = (ctx.exports.gemm_ws_floats as () => number)();
  const size = (s: Shape) => s.reduce((p, d) => p * d, 1);
  // A slot holds the SGEMM's packing space and a chunk of im2col rows `width` floats wide.
  const workspace = (width: number, rows: number) => {
    const chunk = width * Math.min(Math.max(rows, 1), Math.max(MIN_ROWS, Math.ceil(COLS_FLOATS / Math.max(width, 1))));
    return workspaceOf(ctx).get(gemmFloats + chunk);
  };
  const kkc = (f: Shape) => f[0] * f[1] * f[2];
  const forward = (x: number, f: number, bias: number, relu: boolean, xs: Shape, fs: Shape, ys: Shape, a: Conv2dAttrs) => {
    const y = ctx.newStorage('float32', size(ys));
    if (size(ys) === 0) return y.handle;
    const ws = workspace(kkc(fs), ys[0] * ys[1] * ys[2]);
    const args = [x, f, bias, +relu, y.ptr, ...geometry(xs, fs, ys, a), ws.ptr, ws.slotFloats, ws.slots];
    ctx.parallel('conv2d_forward', args, gemmWork(size(ys) * kkc(fs)));
    return y.handle;
  };
  const filterGrad = (x: number, dy: number, withBias: boolean, xs: Shape, fs: Shape, ys: Shape, a: Conv2dAttrs) => {
    const df = ctx.newStorage('float32', size(fs) + (withBias ? fs[3] : 0));
    if (size(fs) + (withBias ? fs[3] : 0) === 0) return df.handle;
    const ws = workspace(kkc(fs), ys[0] * ys[1] * ys[2]);
    const args = [x, dy, df.ptr, +withBias, ...geometry(xs, fs, ys, a), ws.ptr, ws.slotFloats, ws.slots];
    ctx.parallel('conv2d_backprop_filter', args, gemmWork(size(ys) * kkc(fs)));
    return df.handle;
  };
  return {
    conv2d: ([x, f], attrs, out) => forward(ctx.ptrOf(x.data), ctx.ptrOf(f.data), 0, false, x.shape, f.shape, out.shape, attrs),
    fusedConv2d: ([x, f, bias], attrs, out) => {
      const relu = attrs.activation !== 'linear';
      const y = forward(ctx.ptrOf(x.data), ctx.ptrOf(f.data), ctx.ptrOf(bias.data), relu, x.shape, f.shape, out.shape, attrs);
      // relu6's upper clip is a pass here: the C kernel applies relu only (relu6 comes from
      // imported MobileNets, which run on native; NaN stays NaN since NaN > 6 is false).
      if (attrs.activation === 'relu6') {
        const ys = ctx.f32(ctx.ptrOf(y), size(out.shape));
        for (let i = 0; i < ys.length; i++) if (ys[i] > 6) ys[i] = 6;
      }
      return y;
    },
    conv2dBackpropInput: ([dy, f], attrs) => {
      const xs = attrs.inputShape;
      const dx = ctx.newStorage('float32', size(xs));
      if (size(xs) === 0) return dx.handle;
      const ws = workspace(kkc(f.shape), dy.shape[0] * dy.shape[1] * dy.shape[2]);
      const args = [ctx.ptrOf(dy.data), ctx.ptrOf(f.data), dx.ptr, ...geometry(xs, f.shape, dy.shape, attrs), ws.ptr, ws.slotFloats, ws.slots];
      ctx.parallel('conv2d_backprop_input', args, gemmWork(size(dy.shape) * kkc(f.shape)));
      return dx.handle;
    },
    // Depthwise (filter [kh, kw, C, dm]): direct loops with the lanes along the output channels.
    depthwiseConv2d: ([x, f], attrs, out) => {
      const y = ctx.newStorage('float32', size(out.shape));
      if (size(out.shape) > 0)
        ctx.parallel(
          'depthwise_forward',
          [ctx.ptrOf(x.data), ctx.ptrOf(f.data), y.ptr, f.shape[3], ...geometry(x.shape, f.shape, out.shape, attrs)],
          size(out.shape) * f.shape[0] * f.shape[1],
        );
      return y.handle;
    },
    depthwiseConv2dBackpropInput: ([dy, f], attrs) => {
      const xs = attrs.inputShape;
      const dx = ctx.newStorage('float32', size(xs));
      if (size(xs) > 0)
        ctx.parallel(
          'depthwise_backprop_input',
          [ctx.ptrOf(dy.data), ctx.ptrOf(f.data), dx.ptr, f.shape[3], ...geometry(xs, f.shape, dy.shape, attrs)],
          size(dy.shape) * f.shape[0] * f.shape[1],
        );
      return dx.handle;
    },
    depthwiseConv2dBackpropFilter: ([x, dy], attrs) => {
      const fs = attrs.filterShape;
      const df = ctx.newStorage('float32', size(fs));
      if (size(fs) > 0)
        ctx.parallel(
          'depthwise_backprop_filter',
          [ctx.ptrOf(x.data), ctx.ptrOf(dy.data), df.ptr, fs[3], ...geometry(x.shape, fs, dy.shape, attrs)],
          size(dy.shape) * fs[0] * fs[1],
        );
      return df.handle;
    },
    conv2dBackpropFilter: ([x, dy], attrs) => filterGrad(ctx.ptrOf(x.data), ctx.ptrOf(dy.data), false, x.shape, attrs.filterShape, dy.shape, attrs),
    conv2dBackpropFilterBias: ([x, dy], attrs) =>
      filterGrad(ctx.ptrOf(x.data), ctx.ptrOf(dy.data), true, x.shape, attrs.filterShape, dy.shape, attrs),
  };
}
