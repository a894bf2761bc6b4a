import type { Pads2d } from '../backend/primitives.js';
import type { Tensor } from '../tensor/tensor.js';
import { patchIndices } from './conv-geometry.js';
import { gather, pad, reshape, scatterAdd, slice } from './shape-ops.js';

/** Where the windows of an NHWC image are: the padding, taps and output grid of one conv or pool. */
export interface Windows {
  kernel: [number, number];
  strides: [number, number];
  dilation: [number, number];
  pads: Pads2d;
  outH: number;
  outW: number;
}

/** Every window of x as [N, outH * outW, kh * kw, C], padding filled with `padValue` (see Note [Patches as a gather]). */
export function extractPatches(x: Tensor, w: Windows, padValue = 0): Tensor {
  const [n, h, wd, c] = x.shape;
  const hp = h + w.pads.top + w.pads.bottom,
    wp = wd + w.pads.left + w.pads.right;
  const padded = pad(
    x,
    [
      [0, 0],
      [w.pads.top, w.pads.bottom],
      [w.pads.left, w.pads.right],
      [0, 0],
    ],
    padValue,
  );
  const idx = patchIndices(wp, w.outH, w.outW, w.kernel, w.strides, w.dilation);
  const taps = gather(reshape(padded, [n, hp * wp, c]), idx, 1);
  return reshape(taps, [n, w.outH * w.outW, w.kernel[0] * w.kernel[1], c]);
}

/** The transpose of extractPatches: adds each window's values back onto an image of `inputShape`. */
export function foldPatches(patches: Tensor, w: Windows, inputShape: readonly number[]): Tensor {
  const [n, h, wd, c] = inputShape;
  const hp = h + w.pads.top + w.pads.bottom,
    wp = wd + w.pads.left + w.pads.right;
  const idx = patchIndices(wp, w.outH, w.outW, w.kernel, w.strides, w.dilation);
  const flat = reshape(patches, [n, idx.size, c]);
  const padded = reshape(scatterAdd(flat, idx, 1, hp * wp), [n, hp, wp, c]);
  return slice(padded, [0, w.pads.top, w.pads.left, 0], [n, h, wd, c]);
}
