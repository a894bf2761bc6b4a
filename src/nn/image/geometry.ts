// Keras 3's crop_images, pad_images and extract_patches, and its gaussian_blur: cuts, pads and
// windows of NHWC images built from slice, pad, the convolutions' patch gather
// (Note [Patches as a gather] in ops/conv-geometry.ts) and a depthwise convolution.

import { isFloat } from '../../core/dtype.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { checkKeys } from '../../core/options.js';
import { depthwiseConv2d } from '../../ops/conv-extra.js';
import { geometry2d, pair, type Padding, type Pair } from '../../ops/conv-geometry.js';
import { asTensor, type TensorInput } from '../../ops/operand.js';
import { conv3d } from '../../ops/conv3d.js';
import { cast } from '../../ops/elementwise.js';
import { extractPatches as windows } from '../../ops/patches.js';
import { pad, reshape, slice, transpose } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { dataFormatOf, fromBatch, toBatch, toFirst, toLast, type ImageDataFormat } from './common.js';

/** Runs `f` on NHWC batches, whatever the caller's rank and data format. */
function nhwc(op: string, images: TensorInput, dataFormat: unknown, f: (x: Tensor) => Tensor): Tensor {
  const format = dataFormatOf(op, dataFormat);
  const { images: x, single } = toBatch(op, format === 'channels_first' ? toLast(op, images) : images);
  const out = fromBatch(f(x), single);
  return format === 'channels_first' ? toFirst(out) : out;
}

/** Two of (before, after, target) given: the third, checked non-negative (Keras's rule). */
function margins(
  op: string,
  what: string,
  before: number | undefined,
  after: number | undefined,
  target: number | undefined,
  size: number,
  sign: 1 | -1,
): [number, number] {
  const given = [before, after, target].filter((v) => v !== undefined).length;
  if (given !== 2)
    throw new ValueError(`${op}: give exactly two of the ${what} before, after and target; received ${fmtValue({ before, after, target })}`);
  for (const v of [before, after, target])
    if (v !== undefined && !Number.isInteger(v)) throw new ValueError(`${op}: ${what} values must be integers; received ${fmtValue(v)}`);
  // Padding: target = size + before + after; cropping: target = size − before − after.
  const b = before ?? sign * (target! - size) - after!;
  const a = after ?? sign * (target! - size) - b;
  if (b < 0 || a < 0) throw new ValueError(`${op}: the ${what} must be >= 0; received ${b} and ${a}`);
  return [b, a];
}

/** Options of `st.image.padImages` (Keras's pad_images): two of each triple. */
export interface PadImagesOptions {
  /** Rows of zeros added above. */
  topPadding?: number;
  /** Columns of zeros added on the left. */
  leftPadding?: number;
  /** Rows of zeros added below. */
  bottomPadding?: number;
  /** Columns of zeros added on the right. */
  rightPadding?: number;
  /** The height of the result (instead of one of the two vertical amounts). */
  targetHeight?: number;
  /** The width of the result (instead of one of the two horizontal amounts). */
  targetWidth?: number;
  /** 'channels_last' (default) or 'channels_first'. */
  dataFormat?: ImageDataFormat;
}

/** Pads images with zeros (Keras 3's `pad_images`): two of top, bottom, targetHeight and two of left, right, targetWidth. */
export function padImages(images: TensorInput, options: PadImagesOptions): Tensor {
  const op = 'image.padImages';
  checkKeys(op, options, ['topPadding', 'leftPadding', 'bottomPadding', 'rightPadding', 'targetHeight', 'targetWidth', 'dataFormat']);
  return nhwc(op, images, options.dataFormat, (x) => {
    const [, h, w] = x.shape;
    const [top, bottom] = margins(op, 'vertical padding', options.topPadding, options.bottomPadding, options.targetHeight, h, 1);
    const [left, right] = margins(op, 'horizontal padding', options.leftPadding, options.rightPadding, options.targetWidth, w, 1);
    return pad(x, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
  });
}

/** Options of `st.image.cropImages` (Keras's crop_images): two of each triple. */
export interface CropImagesOptions {
  /** Rows cut off the top. */
  topCropping?: number;
  /** Columns cut off the left. */
  leftCropping?: number;
  /** Rows cut off the bottom. */
  bottomCropping?: number;
  /** Columns cut off the right. */
  rightCropping?: number;
  /** The height of the result (instead of one of the two vertical amounts). */
  targetHeight?: number;
  /** The width of the result (instead of one of the two horizontal amounts). */
  targetWidth?: number;
  /** 'channels_last' (default) or 'channels_first'. */
  dataFormat?: ImageDataFormat;
}

/** Cuts rows and columns off images (Keras 3's `crop_images`): two of top, bottom, targetHeight and two of left, right, targetWidth. */
export function cropImages(images: TensorInput, options: CropImagesOptions): Tensor {
  const op = 'image.cropImages';
  checkKeys(op, options, ['topCropping', 'leftCropping', 'bottomCropping', 'rightCropping', 'targetHeight', 'targetWidth', 'dataFormat']);
  return nhwc(op, images, options.dataFormat, (x) => {
    const [n, h, w, c] = x.shape;
    const [top, bottom] = margins(op, 'vertical cropping', options.topCropping, options.bottomCropping, options.targetHeight, h, -1);
    const [left, right] = margins(op, 'horizontal cropping', options.leftCropping, options.rightCropping, options.targetWidth, w, -1);
    if (top + bottom >= h || left + right >= w)
      throw new ValueError(`${op}: cropping ${top}+${bottom} x ${left}+${right} leaves nothing of a ${h} x ${w} image`);
    return slice(x, [0, top, left, 0], [n, h - top - bottom, w - left - right, c]);
  });
}

/** Options of `st.image.extractPatches`. */
export interface ExtractPatchesOptions {
  /** The step between patches (default: the patch size, so patches do not overlap). */
  strides?: Pair;
  /** The spacing of a patch's taps (default 1). */
  dilationRate?: Pair;
  /** 'valid' (default) or 'same' (TF's zero padding, the odd pixel after). */
  padding?: Padding;
  /** 'channels_last' (default) or 'channels_first'. */
  dataFormat?: ImageDataFormat;
}

/**
 * Every size[0] x size[1] patch of the images as one vector (Keras 3's `extract_patches`, TF's
 * extract_patches): [N, outH, outW, kh·kw·C], ordered row, column, channel. Differentiable.
 */
export function extractPatches(images: TensorInput, size: Pair, options: ExtractPatchesOptions = {}): Tensor {
  const op = 'image.extractPatches';
  checkKeys(op, options, ['strides', 'dilationRate', 'padding', 'dataFormat']);
  const kernel = pair(op, 'size', size, 1);
  const strides = pair(op, 'strides', options.strides, 1);
  const stridesOrSize: [number, number] = options.strides === undefined ? kernel : strides;
  const dilation = pair(op, 'dilationRate', options.dilationRate, 1);
  return nhwc(op, images, options.dataFormat, (x) => {
    const g = geometry2d(op, x.shape, kernel, stridesOrSize, dilation, options.padding ?? 'valid');
    const taps = windows(x, { kernel, strides: stridesOrSize, dilation, pads: g.pads, outH: g.outH, outW: g.outW });
    return reshape(taps, [x.shape[0], g.outH, g.outW, kernel[0] * kernel[1] * x.shape[3]]);
  });
}

/** Options of `st.image.gaussianBlur`. */
export interface GaussianBlurOptions {
  /** [height, width] of the kernel (default [3, 3]). */
  kernelSize?: Pair;
  /** The standard deviation along [height, width] (default [1, 1]). */
  sigma?: number | readonly [number, number];
  /** 'channels_last' (default) or 'channels_first'. */
  dataFormat?: ImageDataFormat;
}

/** A normalized 1-D Gaussian of `size` taps centred on (size − 1)/2. */
export function gaussian1d(size: number, sigma: number): number[] {
  const taps = Array.from({ length: size }, (_, i) => Math.exp(-0.5 * ((i - (size - 1) / 2) / sigma) ** 2));
  const total = taps.reduce((a, b) => a + b, 0);
  return taps.map((t) => t / total);
}

/**
 * Blurs each channel with a normalized Gaussian kernel, zero padding of kernelSize // 2 on each
 * side (Keras 3's `gaussian_blur`; the output has the input's size for odd kernels): a depthwise
 * convolution, so differentiable. Keras 3.15 pairs kernelSize[1], sigma[1] with the rows;
 * here [height, width] mean what they say (the same for square kernels and equal sigmas).
 */
export function gaussianBlur(images: TensorInput, options: GaussianBlurOptions = {}): Tensor {
  const op = 'image.gaussianBlur';
  checkKeys(op, options, ['kernelSize', 'sigma', 'dataFormat']);
  const [kh, kw] = pair(op, 'kernelSize', options.kernelSize, 3);
  const s = options.sigma ?? 1;
  const [sh, sw] = typeof s === 'number' ? [s, s] : [s[0], s[1]];
  if (!(sh > 0 && sw > 0)) throw new ValueError(`${op}: sigma must be positive; received ${fmtValue(options.sigma)}`);
  return nhwc(op, images, options.dataFormat, (x) => {
    const c = x.shape[3];
    const rows = gaussian1d(kh, sh),
      cols = gaussian1d(kw, sw);
    const kernel: number[] = [];
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let ch = 0; ch < c; ch++) kernel.push(rows[i] * cols[j]);
    const [ph, pw] = [Math.floor(kh / 2), Math.floor(kw / 2)];
    const padded = pad(x, [
      [0, 0],
      [ph, ph],
      [pw, pw],
      [0, 0],
    ]);
    return depthwiseConv2d(padded, tensor(kernel, [kh, kw, c, 1], x.dtype), { padding: 'valid' });
  });
}

/** Options of `st.image.extractPatches3d`. */
export interface ExtractPatches3dOptions {
  /** The step between patches per axis (default: the patch size). */
  strides?: number | readonly [number, number, number];
  /** The spacing of a patch's taps (default 1). */
  dilationRate?: number | readonly [number, number, number];
  /** 'valid' (default) or 'same'. */
  padding?: Padding;
  /** 'channels_last' (default, [N, D, H, W, C]) or 'channels_first' ([N, C, D, H, W]). */
  dataFormat?: ImageDataFormat;
}

/**
 * Every d x h x w patch of volumes [N, D, H, W, C] (or one volume [D, H, W, C]) as one vector
 * ordered depth, row, column, channel (Keras 3's `extract_patches_3d`): as Keras, a 3-D
 * convolution with the identity kernel, so differentiable and on every backend.
 */
export function extractPatches3d(
  volumes: TensorInput,
  size: number | readonly [number, number, number],
  options: ExtractPatches3dOptions = {},
): Tensor {
  const op = 'image.extractPatches3d';
  checkKeys(op, options, ['strides', 'dilationRate', 'padding', 'dataFormat']);
  const triple = (name: string, v: unknown): [number, number, number] => {
    const t = typeof v === 'number' ? [v, v, v] : Array.isArray(v) && v.length === 3 ? v : null;
    if (!t?.every((s) => Number.isInteger(s) && s > 0))
      throw new ValueError(`${op}: ${name} must be a positive integer or three of them; received ${fmtValue(v)}`);
    return [t[0], t[1], t[2]];
  };
  const patch = triple('size', size);
  const strides = options.strides === undefined ? patch : triple('strides', options.strides);
  const dilation = triple('dilationRate', options.dilationRate ?? 1);
  const format = dataFormatOf(op, options.dataFormat);
  const given = asTensor(op, 'volumes', volumes);
  if (given.rank !== 4 && given.rank !== 5) throw new ShapeError(`${op}: volumes must have rank 4 or 5; received shape ${fmtShape(given.shape)}`);
  const single = given.rank === 4;
  let x = single ? reshape(given, [1, ...given.shape]) : given;
  if (format === 'channels_first') x = transpose(x, [0, 2, 3, 4, 1]);
  if (!isFloat(x.dtype)) x = cast(x, 'float32');
  const c = x.shape[4];
  const out = patch[0] * patch[1] * patch[2] * c;
  // The identity as a [d, h, w, C, out] kernel: output channel k copies tap-and-channel k.
  const eye = new Float64Array(out * out);
  for (let k = 0; k < out; k++) eye[k * out + k] = 1;
  let y = conv3d(x, tensor(eye, [patch[0], patch[1], patch[2], c, out], x.dtype), { strides, padding: options.padding ?? 'valid', dilation });
  if (format === 'channels_first') y = transpose(y, [0, 4, 1, 2, 3]);
  return single ? reshape(y, y.shape.slice(1)) : y;
}
