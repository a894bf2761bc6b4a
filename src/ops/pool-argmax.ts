import { ValueError, fmtValue } from '../core/errors.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { pair, checkNhwc, type Pair } from './conv-geometry.js';
import { add, mul } from './elementwise.js';
import { asTensor, requireFloat, type TensorInput } from './operand.js';
import { extractPatches } from './patches.js';
import { maxPool2dPlanned, planPool2d, poolPlanFromAttrs, type PoolPlan } from './pool.js';
import { argMax } from './reduction.js';
import { gather, reshape } from './shape-ops.js';

// tfjs's tf.maxPoolWithArgmax: max pooling that also says where each maximum came from, as
// TensorFlow numbers the elements of an NHWC tensor. The values are st.maxPool2d's (with its
// gradient); the winners are found again with the patch gather (Note [Patches as a gather]):
// the argMax over each window's taps (the first maximum in row-major order, as TensorFlow
// keeps it), mapped through a host table from (window, tap) to the pixel it reads.

/**
 * Max pooling of NHWC x with the position of each window's maximum (tfjs's
 * tf.maxPoolWithArgmax): `result` is st.maxPool2d's, `indexes` (int32, of result's shape) is
 * TensorFlow's flattened index (y * width + x) * channels + c, plus batch * height * width *
 * channels with includeBatchInIndex. `pad` is 'valid', 'same' or a number of pixels on every side.
 * @throws ShapeError for x that is not NHWC; ValueError for a bad window or padding.
 * @example
 * ```ts
 * const x = st.tensor([1, 5, 3, 2, 4, 8, 7, 6], [1, 2, 2, 2]);
 * const { result, indexes } = st.maxPoolWithArgmax(x, 2, 2, 'valid');
 * console.log(await result.data(), await indexes.data()); // [7, 8] [6, 5]
 * ```
 */
export function maxPoolWithArgmax(
  x: TensorInput,
  filterSize: Pair,
  strides: Pair,
  pad: 'valid' | 'same' | number,
  includeBatchInIndex = false,
): {
  /** The max-pooled tensor, as st.maxPool2d returns it. */
  result: Tensor;
  /** TensorFlow's flattened index (int32) of each window's maximum, of result's shape. */
  indexes: Tensor;
} {
  const op = 'maxPoolWithArgmax';
  const t = asTensor(op, 'x', x);
  checkNhwc(op, t);
  requireFloat(op, t);
  let plan: PoolPlan;
  if (typeof pad === 'number') {
    if (!Number.isInteger(pad) || pad < 0)
      throw new ValueError(`${op}: pad must be 'valid', 'same' or a non-negative integer; received ${fmtValue(pad)}`);
    const poolSize = pair(op, 'filterSize', filterSize, 1);
    if (pad >= poolSize[0] || pad >= poolSize[1]) {
      throw new ValueError(`${op}: a padding of ${pad} would let a window hold only padding (filter ${poolSize.join('x')})`);
    }
    plan = poolPlanFromAttrs(t.shape, { poolSize, strides: pair(op, 'strides', strides, 1), pads: { top: pad, bottom: pad, left: pad, right: pad } });
  } else plan = planPool2d(op, t.shape, { poolSize: filterSize, strides, padding: pad });
  const [n, h, w, c] = t.shape;
  const { windows } = plan;
  const taps = windows.kernel[0] * windows.kernel[1];
  const cells = windows.outH * windows.outW;
  const result = maxPool2dPlanned(t, plan);
  // Each window's winning tap (padding is -Infinity and never wins a window with a real pixel).
  const tap = argMax(extractPatches(t, windows, -Infinity), 2); // [N, cells, C]
  // The unpadded pixel y * w + x that tap k of window l reads, at l * taps + k.
  const pixel = new Int32Array(cells * taps);
  for (let oy = 0; oy < windows.outH; oy++)
    for (let ox = 0; ox < windows.outW; ox++)
      for (let ky = 0; ky < windows.kernel[0]; ky++)
        for (let kx = 0; kx < windows.kernel[1]; kx++) {
          const y = oy * windows.strides[0] + ky - windows.pads.top,
            xx = ox * windows.strides[1] + kx - windows.pads.left;
          pixel[((oy * windows.outW + ox) * windows.kernel[0] + ky) * windows.kernel[1] + kx] = y * w + xx;
        }
  const windowStart = tensor(
    Int32Array.from({ length: cells }, (_, l) => l * taps),
    [1, cells, 1],
    'int32',
  );
  const flatPixel = reshape(gather(tensor(pixel, [pixel.length], 'int32'), reshape(add(tap, windowStart), [-1]), 0), [n, cells, c]);
  const channel = tensor(
    Int32Array.from({ length: c }, (_, k) => k),
    [1, 1, c],
    'int32',
  );
  let index = add(mul(flatPixel, c), channel);
  if (includeBatchInIndex) {
    index = add(
      index,
      tensor(
        Int32Array.from({ length: n }, (_, b) => b * h * w * c),
        [n, 1, 1],
        'int32',
      ),
    );
  }
  return { result, indexes: reshape(index, result.shape) };
}
