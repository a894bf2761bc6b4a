// Keras 3's sobel_edges and ssim: a depthwise convolution of each channel with fixed kernels
// (Sobel's, or a Gaussian window for SSIM's local statistics), so both are differentiable
// through the convolution's rules.

import { isFloat } from '../../core/dtype.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { checkKeys } from '../../core/options.js';
import { depthwiseConv2d } from '../../ops/conv-extra.js';
import { add, cast, div, mul, sub } from '../../ops/elementwise.js';
import { asTensor, type TensorInput } from '../../ops/operand.js';
import { mean } from '../../ops/reduction.js';
import { mirrorPad } from '../../ops/space.js';
import { reshape, transpose } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { dataFormatOf, toLast, type ImageDataFormat } from './common.js';
import { gaussian1d } from './geometry.js';

/** Sobel's vertical (dy) and horizontal (dx) kernels, row-major 3 x 3. */
const SOBEL_DY = [-1, -2, -1, 0, 0, 0, 1, 2, 1];
const SOBEL_DX = [-1, 0, 1, -2, 0, 2, -1, 0, 1];

/** Options of `st.image.sobelEdges`. */
export interface SobelEdgesOptions {
  /** 'channels_last' (default) or 'channels_first'. */
  dataFormat?: ImageDataFormat;
}

/**
 * Sobel gradients of each channel (Keras 3's `sobel_edges` with its TensorFlow backend, TF's
 * tf.image.sobel_edges): [N, H, W, C, 2] holding [dy, dx], the image extended by reflection
 * (c b | a b c d | c b) at the border. Keras's NumPy backend (scipy) repeats the edge pixel
 * instead, which changes the border rows and columns only. channels_first gives [N, C, H, W, 2].
 */
export function sobelEdges(images: TensorInput, options: SobelEdgesOptions = {}): Tensor {
  const op = 'image.sobelEdges';
  checkKeys(op, options, ['dataFormat']);
  const format = dataFormatOf(op, options.dataFormat);
  const given = asTensor(op, 'images', images);
  if (given.rank !== 4) throw new ShapeError(`${op}: images must have rank 4; received shape ${fmtShape(given.shape)}`);
  const x0 = format === 'channels_first' ? toLast(op, given) : given;
  const x = isFloat(x0.dtype) ? x0 : cast(x0, 'float32');
  const [n, h, w, c] = x.shape;
  if (h < 2 || w < 2) throw new ShapeError(`${op}: images must be at least 2 x 2; received shape ${fmtShape(given.shape)}`);
  const kernel: number[] = [];
  for (let t = 0; t < 9; t++) for (let ch = 0; ch < c; ch++) kernel.push(SOBEL_DY[t], SOBEL_DX[t]);
  const padded = mirrorPad(
    x,
    [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
    'reflect',
  );
  const edges = reshape(depthwiseConv2d(padded, tensor(kernel, [3, 3, c, 2], x.dtype), { padding: 'valid' }), [n, h, w, c, 2]);
  return format === 'channels_first' ? transpose(edges, [0, 3, 1, 2, 4]) : edges;
}

/** Options of `st.image.ssim` (Keras 3's defaults). */
export interface SsimOptions {
  /** The largest pixel value (default 1). */
  maxVal?: number;
  /** The side of the Gaussian window (default 11). */
  filterSize?: number;
  /** The window's standard deviation (default 1.5). */
  filterSigma?: number;
  /** Stabilizes the luminance term: c1 = (k1·maxVal)² (default 0.01). */
  k1?: number;
  /** Stabilizes the contrast term: c2 = (k2·maxVal)² (default 0.03). */
  k2?: number;
  /** 'channels_last' (default) or 'channels_first'. */
  dataFormat?: ImageDataFormat;
}

/**
 * Structural similarity of two images or batches (Keras 3's `ssim`, Wang et al. 2004): local
 * means, variances and covariance under a Gaussian window ('valid' positions only), the SSIM map
 * ((2μ₁μ₂ + c1)(2σ₁₂ + c2)) / ((μ₁² + μ₂² + c1)(σ₁² + σ₂² + c2)) averaged over positions and
 * channels: one value per image ([N]), or a scalar for [H, W, C] inputs. Differentiable.
 */
export function ssim(image1: TensorInput, image2: TensorInput, options: SsimOptions = {}): Tensor {
  const op = 'image.ssim';
  checkKeys(op, options, ['maxVal', 'filterSize', 'filterSigma', 'k1', 'k2', 'dataFormat']);
  const format = dataFormatOf(op, options.dataFormat);
  const a0 = asTensor(op, 'image1', image1),
    b0 = asTensor(op, 'image2', image2);
  if (a0.rank !== 3 && a0.rank !== 4) throw new ShapeError(`${op}: image1 must have rank 3 or 4; received shape ${fmtShape(a0.shape)}`);
  if (fmtShape(a0.shape) !== fmtShape(b0.shape))
    throw new ShapeError(`${op}: image2 must have image1's shape ${fmtShape(a0.shape)}; received ${fmtShape(b0.shape)}`);
  const maxVal = options.maxVal ?? 1,
    size = options.filterSize ?? 11,
    sigma = options.filterSigma ?? 1.5,
    k1 = options.k1 ?? 0.01,
    k2 = options.k2 ?? 0.03;
  if (!Number.isInteger(size) || size < 1)
    throw new ValueError(`${op}: filterSize must be a positive integer; received ${fmtValue(options.filterSize)}`);
  if (!(sigma > 0)) throw new ValueError(`${op}: filterSigma must be positive; received ${fmtValue(options.filterSigma)}`);
  const single = a0.rank === 3;
  const prepare = (t: Tensor) => {
    const batch = single ? reshape(t, [1, ...t.shape]) : t;
    const last = format === 'channels_first' ? toLast(op, batch) : batch;
    return isFloat(last.dtype) ? last : cast(last, 'float32');
  };
  const x = prepare(a0),
    y = prepare(b0);
  const [n, h, w, c] = x.shape;
  if (h < size || w < size) throw new ShapeError(`${op}: images must be at least ${size} x ${size} (the filter); received ${h} x ${w}`);
  const g = gaussian1d(size, sigma);
  const kernel: number[] = [];
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) for (let ch = 0; ch < c; ch++) kernel.push(g[i] * g[j]);
  const window = tensor(kernel, [size, size, c, 1], x.dtype);
  const local = (t: Tensor) => depthwiseConv2d(t, window, { padding: 'valid' });
  const mu1 = local(x),
    mu2 = local(y);
  const mu11 = mul(mu1, mu1),
    mu22 = mul(mu2, mu2),
    mu12 = mul(mu1, mu2);
  const s11 = sub(local(mul(x, x)), mu11),
    s22 = sub(local(mul(y, y)), mu22),
    s12 = sub(local(mul(x, y)), mu12);
  const c1 = (k1 * maxVal) ** 2,
    c2 = (k2 * maxVal) ** 2;
  const map = div(mul(add(mul(mu12, 2), c1), add(mul(s12, 2), c2)), mul(add(add(mu11, mu22), c1), add(add(s11, s22), c2)));
  const perImage = mean(reshape(map, [n, -1]), 1);
  return single ? reshape(perImage, []) : perImage;
}
