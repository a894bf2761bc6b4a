// Keras 3's elastic_transform: each pixel moves by a random displacement field, white noise
// (standard deviation sigma) smoothed by a Gaussian of that sigma and scaled by alpha, and reads
// its source with Keras's map_coordinates rule (integer neighbours mapped by the fill mode). The
// fields are drawn and smoothed on the host (they are as small as one channel of the batch);
// the pixels move by the tap-table gather, so gradients reach the images.

import { ValueError, fmtValue } from '../../core/errors.js';
import { checkKeys, checkOneOf } from '../../core/options.js';
import type { TensorInput } from '../../ops/operand.js';
import { randomNormal } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { INTERPOLATIONS, roundHalfEven, type Interpolation } from '../image-sampling.js';
import { TapTable, dataFormatOf, fromBatch, toBatch, toFirst, toLast, type ImageDataFormat } from './common.js';
import { gaussian1d } from './geometry.js';
import { COORDINATE_FILL_MODES, coordinateIndex, type CoordinateFillMode } from './warp.js';

/** Options of `st.image.elasticTransform` (Keras 3's defaults). */
export interface ElasticTransformOptions {
  /** The displacement scale in pixels (default 20). */
  alpha?: number;
  /** The noise's standard deviation and the smoothing Gaussian's (default 5; kernel int(6σ) | 1). */
  sigma?: number;
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** 'reflect' (default), 'constant', 'nearest', 'wrap' or 'mirror'. */
  fillMode?: CoordinateFillMode;
  /** The value of outside samples with 'constant' (default 0). */
  fillValue?: number;
  /** A seed for reproducible fields; default: the global stream. */
  seed?: number;
  /** 'channels_last' (default) or 'channels_first'. */
  dataFormat?: ImageDataFormat;
}

/** Zero-padded 'same' convolution of each [h, w] plane with the separable kernel k ⊗ k. */
function smooth(planes: Float64Array, count: number, h: number, w: number, k: number[]): Float64Array {
  const r = (k.length - 1) / 2;
  const rows = new Float64Array(planes.length),
    out = new Float64Array(planes.length);
  for (let p = 0; p < count; p++) {
    const base = p * h * w;
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        let acc = 0;
        for (let t = 0; t < k.length; t++) {
          const jj = j + t - r;
          if (jj >= 0 && jj < w) acc += k[t] * planes[base + i * w + jj];
        }
        rows[base + i * w + j] = acc;
      }
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        let acc = 0;
        for (let t = 0; t < k.length; t++) {
          const ii = i + t - r;
          if (ii >= 0 && ii < h) acc += k[t] * rows[base + ii * w + j];
        }
        out[base + i * w + j] = acc;
      }
  }
  return out;
}

/**
 * The displacement fields of n images of h x w: [dy, dx] each [n, h, w], white noise of standard
 * deviation sigma smoothed by Keras's gaussian_blur (kernel int(6σ) | 1, sigma σ, zero padding)
 * and scaled by alpha. Exported so tests can replay a transform.
 */
export function elasticFields(
  n: number,
  h: number,
  w: number,
  alpha: number,
  sigma: number,
  seed?: number,
): { dy: Float64Array; dx: Float64Array; noise: Float64Array } {
  const draw = randomNormal([2, n, h, w], { seed });
  const noise = Float64Array.from((draw.hostValues() ?? draw.dataSync()) as ArrayLike<number>, (v) => v * sigma);
  draw.dispose();
  const size = Math.trunc(6 * sigma) | 1;
  const blurred = smooth(noise, 2 * n, h, w, gaussian1d(size, sigma));
  const plane = n * h * w;
  return { dx: blurred.subarray(0, plane).map((v) => v * alpha), dy: blurred.subarray(plane).map((v) => v * alpha), noise };
}

/**
 * Distorts images by a random smooth displacement field (Keras 3's `elastic_transform`): pixel
 * (y, x) reads (y + dy, x + dx), see elasticFields; neighbours outside follow the fill mode. The
 * same seed gives the same fields (Strata's generator, so not Keras's numbers). Differentiable
 * with respect to the images.
 */
export function elasticTransform(images: TensorInput, options: ElasticTransformOptions = {}): Tensor {
  const op = 'image.elasticTransform';
  checkKeys(op, options, ['alpha', 'sigma', 'interpolation', 'fillMode', 'fillValue', 'seed', 'dataFormat']);
  const alpha = options.alpha ?? 20,
    sigma = options.sigma ?? 5;
  if (!Number.isFinite(alpha)) throw new ValueError(`${op}: alpha must be a finite number; received ${fmtValue(options.alpha)}`);
  if (!(sigma > 0)) throw new ValueError(`${op}: sigma must be positive; received ${fmtValue(options.sigma)}`);
  const interpolation = checkOneOf(op, 'interpolation', options.interpolation ?? 'bilinear', INTERPOLATIONS);
  const fillMode = checkOneOf(op, 'fillMode', options.fillMode ?? 'reflect', COORDINATE_FILL_MODES);
  const fillValue = options.fillValue ?? 0;
  if (typeof fillValue !== 'number') throw new ValueError(`${op}: fillValue must be a number; received ${fmtValue(fillValue)}`);
  const format = dataFormatOf(op, options.dataFormat);
  const { images: x, single } = toBatch(op, format === 'channels_first' ? toLast(op, images) : images);
  const [n, h, w, c] = x.shape;
  const { dy, dx } = elasticFields(n, h, w, alpha, sigma, options.seed);
  const bilinear = interpolation === 'bilinear';
  const table = new TapTable(bilinear ? 4 : 1, n * h * w, h, w);
  const read = (k: number, p: number, b: number, yi: number, xi: number, weight: number) => {
    const r = coordinateIndex(yi, h, fillMode),
      q = coordinateIndex(xi, w, fillMode);
    table.putRow(k, p, r < 0 || q < 0 ? -1 : (b * h + r) * w + q, weight);
  };
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        const p = (b * h + i) * w + j;
        const sy = i + dy[p],
          sx = j + dx[p];
        if (!bilinear) {
          read(0, p, b, roundHalfEven(sy), roundHalfEven(sx), 1);
          continue;
        }
        const y0 = Math.floor(sy),
          x0 = Math.floor(sx);
        const fy = sy - y0,
          fx = sx - x0;
        read(0, p, b, y0, x0, (1 - fy) * (1 - fx));
        read(1, p, b, y0, x0 + 1, (1 - fy) * fx);
        read(2, p, b, y0 + 1, x0, fy * (1 - fx));
        read(3, p, b, y0 + 1, x0 + 1, fy * fx);
      }
  const out = fromBatch(table.sample(x, [n, h, w, c], fillValue), single);
  return format === 'channels_first' ? toFirst(out) : out;
}
