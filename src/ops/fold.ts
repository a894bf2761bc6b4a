import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { pair, type Pair } from './conv-geometry.js';
import { asTensor, requireFloat, type TensorInput } from './operand.js';
import { extractPatches, foldPatches, type Windows } from './patches.js';
import { reshape, transpose } from './shape-ops.js';

// Keras 3's ops.unfold and ops.fold (PyTorch's F.unfold and F.fold, "im2col" and "col2im") on
// channels-first images, as views of the NHWC patch gather and its transpose (Note [Patches as
// a gather] in conv-geometry.ts): their gradients are each other's, through gather/scatterAdd.

/** The window options of st.unfold and st.fold: one number for both axes or [height, width]. */
export interface FoldOptions {
  /** The spacing between a window's taps. Default 1. */
  dilation?: Pair;
  /** Zeros added on both sides of each spatial axis (0 or more). Default 0. */
  padding?: number | readonly [number, number];
  /** The step between windows. Default 1. */
  stride?: Pair;
}

function paddingPair(op: string, v: FoldOptions['padding']): [number, number] {
  const p = v === undefined ? [0, 0] : typeof v === 'number' ? [v, v] : Array.isArray(v) ? [v[0], v[1]] : [Number.NaN, Number.NaN];
  if (p.some((x) => !Number.isInteger(x) || x < 0)) throw new ValueError(`${op}: padding must be non-negative integers; received ${fmtValue(v)}`);
  return p as [number, number];
}

/** The windows over an image of (unpadded) size h x w, and their count along each axis. */
function windowsOf(op: string, h: number, w: number, kernelSize: Pair, options: FoldOptions): Windows {
  const unknown = Object.keys(options).filter((k) => !['dilation', 'padding', 'stride'].includes(k));
  if (unknown.length) throw new ValueError(`${op}: unknown option '${unknown[0]}'; expected dilation, padding or stride`);
  const kernel = pair(op, 'kernelSize', kernelSize, 1);
  const dilation = pair(op, 'dilation', options.dilation, 1);
  const strides = pair(op, 'stride', options.stride, 1);
  const [ph, pw] = paddingPair(op, options.padding);
  const count = (n: number, k: number, d: number, s: number, p: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
  const outH = count(h, kernel[0], dilation[0], strides[0], ph),
    outW = count(w, kernel[1], dilation[1], strides[1], pw);
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      `${op}: the ${h}x${w} image (padding ${ph}, ${pw}) is smaller than the ${kernel.join('x')} window with dilation ${dilation.join(', ')}`,
    );
  }
  return { kernel, strides, dilation, pads: { top: ph, bottom: ph, left: pw, right: pw }, outH, outW };
}

/**
 * Every sliding window of a channels-first image x [N, C, H, W] as a column:
 * [N, C * kh * kw, L] with L the number of windows, row c * kh * kw + i * kw + j holding tap
 * (i, j) of channel c (PyTorch's F.unfold, Keras 3's ops.unfold, "im2col").
 * @throws ShapeError when x is not 4-D or the window does not fit.
 * @example
 * ```ts
 * const cols = st.unfold(st.ones([1, 2, 4, 4]), 2, { stride: 2 });
 * console.log(cols.shape); // [1, 8, 4]
 * ```
 */
export function unfold(x: TensorInput, kernelSize: Pair, options: FoldOptions = {}): Tensor {
  const op = 'unfold';
  const t = asTensor(op, 'x', x);
  requireFloat(op, t);
  if (t.rank !== 4) throw new ShapeError(`${op}: x must be 4-D [N, C, H, W]; received shape ${fmtShape(t.shape)}`);
  const [n, c, h, w] = t.shape;
  const win = windowsOf(op, h, w, kernelSize, options);
  const taps = win.kernel[0] * win.kernel[1];
  const patches = extractPatches(transpose(t, [0, 2, 3, 1]), win); // [N, L, taps, C]
  return reshape(transpose(patches, [0, 3, 2, 1]), [n, c * taps, win.outH * win.outW]);
}

/**
 * The transpose of unfold ("col2im"): columns [N, C * kh * kw, L] are added back onto an image
 * [N, C, outputSize] at the places their windows cover, overlaps summed (PyTorch's F.fold,
 * Keras 3's ops.fold). `padding` is the padding unfold was given; it is cut off again.
 * @throws ShapeError when x is not 3-D or its sizes do not match the windows.
 */
export function fold(x: TensorInput, outputSize: Pair, kernelSize: Pair, options: FoldOptions = {}): Tensor {
  const op = 'fold';
  const t = asTensor(op, 'x', x);
  requireFloat(op, t);
  if (t.rank !== 3) throw new ShapeError(`${op}: x must be 3-D [N, C * kh * kw, L]; received shape ${fmtShape(t.shape)}`);
  const [h, w] = pair(op, 'outputSize', outputSize, 1);
  const win = windowsOf(op, h, w, kernelSize, options);
  const taps = win.kernel[0] * win.kernel[1];
  const [n, rows, l] = t.shape;
  if (rows % taps !== 0 || l !== win.outH * win.outW) {
    throw new ShapeError(
      `${op}: x must be [N, C * ${taps}, ${win.outH * win.outW}] for a ${win.kernel.join('x')} window over ${h}x${w} (${win.outH}x${win.outW} windows); received ${fmtShape(t.shape)}`,
    );
  }
  const c = rows / taps;
  const patches = transpose(reshape(t, [n, c, taps, l]), [0, 3, 2, 1]); // [N, L, taps, C]
  return transpose(foldPatches(patches, win, [n, h, w, c]), [0, 3, 1, 2]);
}
