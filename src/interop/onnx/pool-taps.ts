// MaxPool by kernel taps: what Strata's pooling kernels do not cover (dilations, the Indices
// output) computed as the maximum of one strided view of the padded input per kernel position.
// kh * kw gathers: fine for the models that use these options, slower than the kernels.
import { add, greater, maximum, where } from '../../ops/elementwise.js';
import { gather, pad } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';

export interface TapPoolGeometry {
  kernel: [number, number];
  strides: [number, number];
  dilation: [number, number];
  /** Padding before and after each spatial axis (ceil_mode's extra end padding included). */
  pads: { top: number; bottom: number; left: number; right: number };
  /** Indices in column-major order within each image plane (storage_order=1). */
  columnMajor: boolean;
}

/**
 * The maximum of each window of an NHWC input, and where it was: ONNX's Indices, the position
 * flattened over the NCHW input ((n * C + c) * H * W + h * W + w, or w * H + h in column-major
 * order). Padding never wins; ties go to the first position in row-major window order.
 */
export function tapMaxPool(x: Tensor, g: TapPoolGeometry): [Tensor, Tensor] {
  const [n, h, w, c] = x.shape;
  const { kernel, strides, dilation, pads } = g;
  const padded = pad(
    x,
    [
      [0, 0],
      [pads.top, pads.bottom],
      [pads.left, pads.right],
      [0, 0],
    ],
    Number.NEGATIVE_INFINITY,
  );
  const span = (i: 0 | 1) => (kernel[i] - 1) * dilation[i] + 1;
  const oh = Math.floor((h + pads.top + pads.bottom - span(0)) / strides[0]) + 1;
  const ow = Math.floor((w + pads.left + pads.right - span(1)) / strides[1]) + 1;
  const base = tensor(
    Int32Array.from({ length: n * c }, (_, k) => k * h * w),
    [n, 1, 1, c],
    'int32',
  );
  let best: Tensor | undefined;
  let bestIdx: Tensor | undefined;
  for (let ky = 0; ky < kernel[0]; ky++) {
    const rows = Array.from({ length: oh }, (_, i) => i * strides[0] + ky * dilation[0]);
    const byRow = gather(padded, tensor(Int32Array.from(rows), [oh], 'int32'), 1);
    for (let kx = 0; kx < kernel[1]; kx++) {
      const cols = Array.from({ length: ow }, (_, j) => j * strides[1] + kx * dilation[1]);
      const v = gather(byRow, tensor(Int32Array.from(cols), [ow], 'int32'), 2);
      // The input position of each output's tap (padding positions get any value: they never win).
      const at = Int32Array.from({ length: oh * ow }, (_, k) => {
        const [y, xx] = [rows[Math.floor(k / ow)] - pads.top, cols[k % ow] - pads.left];
        return g.columnMajor ? xx * h + y : y * w + xx;
      });
      const idx = tensor(at, [1, oh, ow, 1], 'int32');
      if (!best || !bestIdx) {
        best = v;
        bestIdx = idx;
        continue;
      }
      bestIdx = where(greater(v, best), idx, bestIdx);
      best = maximum(best, v);
    }
  }
  return [best as Tensor, add(bestIdx as Tensor, base)];
}
