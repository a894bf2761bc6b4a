// Keras 3's scale_and_translate (JAX's jax.image.scale_and_translate): separable resampling with
// a linear, Keys cubic or Lanczos kernel, optionally widened to antialias when shrinking. The host
// builds one [in, out] weight matrix per spatial axis; the data stays on the backend (one matmul
// per axis), so gradients reach the images through matmul's rule.

import { isFloat } from '../../core/dtype.js';
import { DtypeError, ShapeError, ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { matmul } from '../../ops/linalg.js';
import { moveaxis } from '../../ops/numpy-extra.js';
import { asTensor, type TensorInput } from '../../ops/operand.js';
import { reshape } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';

/** Keras's method names for scale_and_translate. */
export type ScaleMethod = 'linear' | 'bilinear' | 'trilinear' | 'cubic' | 'bicubic' | 'tricubic' | 'lanczos3' | 'lanczos5';
const METHODS: readonly ScaleMethod[] = ['linear', 'bilinear', 'trilinear', 'cubic', 'bicubic', 'tricubic', 'lanczos3', 'lanczos5'];

const triangle = (x: number) => Math.max(0, 1 - Math.abs(x));
/** Keys' cubic with a = −0.5. */
const keysCubic = (x: number) => (x >= 2 ? 0 : x >= 1 ? ((-0.5 * x + 2.5) * x - 4) * x + 2 : (1.5 * x - 2.5) * x * x + 1);
const lanczos = (r: number) => (x: number) =>
  x > r ? 0 : x > 1e-3 ? (r * Math.sin(Math.PI * x) * Math.sin((Math.PI * x) / r)) / (Math.PI * Math.PI * x * x) : 1;

function kernelOf(method: ScaleMethod): (x: number) => number {
  if (method === 'lanczos3') return lanczos(3);
  if (method === 'lanczos5') return lanczos(5);
  return method.endsWith('cubic') ? keysCubic : triangle;
}

/**
 * The [inSize, outSize] weights of one axis: output i samples input position
 * (i + 0.5 − translation)/scale − 0.5; weights are the kernel of the distance (stretched by
 * 1/scale when antialiasing a shrink), normalized per output, and zero for outputs whose sample
 * falls outside [−0.5, inSize − 0.5].
 */
export function axisWeights(
  inSize: number,
  outSize: number,
  scale: number,
  translation: number,
  kernel: (x: number) => number,
  antialias: boolean,
): Float64Array {
  const inv = 1 / scale;
  const stretch = antialias ? Math.max(inv, 1) : 1;
  const w = new Float64Array(inSize * outSize);
  for (let o = 0; o < outSize; o++) {
    const sample = (o + 0.5) * inv - translation * inv - 0.5;
    if (!(sample >= -0.5 && sample <= inSize - 0.5)) continue;
    let total = 0;
    for (let i = 0; i < inSize; i++) total += kernel(Math.abs(sample - i) / stretch);
    if (!(Math.abs(total) > 1000 * 1.1920928955078125e-7)) continue;
    for (let i = 0; i < inSize; i++) w[i * outSize + o] = kernel(Math.abs(sample - i) / stretch) / total;
  }
  return w;
}

/**
 * Resamples the `spatialDims` axes of float images to `outputShape` (the full shape), mapping
 * output index i of axis d to input (i + 0.5 − translation[k])/scale[k] − 0.5 (Keras 3's
 * `scale_and_translate`). `method` is linear, cubic (Keys) or lanczos3/5 (Keras also accepts
 * the bi- and tri- spellings); `antialias` (default true) widens the kernel when shrinking.
 * Differentiable with respect to the images.
 */
export function scaleAndTranslate(
  images: TensorInput,
  outputShape: readonly number[],
  scale: readonly number[],
  translation: readonly number[],
  spatialDims: readonly number[],
  method: ScaleMethod,
  antialias = true,
): Tensor {
  const op = 'image.scaleAndTranslate';
  const x = asTensor(op, 'images', images);
  if (!isFloat(x.dtype)) throw new DtypeError(`${op}: images must be float; received ${x.dtype}`);
  checkOneOf(op, 'method', method, METHODS);
  if (!Array.isArray(outputShape) || outputShape.length !== x.rank)
    throw new ShapeError(
      `${op}: outputShape must list ${x.rank} sizes (the images have shape ${fmtShape(x.shape)}); received ${fmtValue(outputShape)}`,
    );
  if (scale.length !== spatialDims.length || translation.length !== spatialDims.length)
    throw new ValueError(
      `${op}: scale and translation need one entry per spatial dim (${spatialDims.length}); received ${scale.length} and ${translation.length}`,
    );
  const kernel = kernelOf(method);
  let y = x;
  spatialDims.forEach((dim, k) => {
    const d = dim < 0 ? dim + x.rank : dim;
    if (!Number.isInteger(d) || d < 0 || d >= x.rank)
      throw new ValueError(`${op}: spatialDims must be axes of a rank-${x.rank} tensor; received ${fmtValue(dim)}`);
    if (!(scale[k] > 0)) throw new ValueError(`${op}: scale must be positive; received ${fmtValue(scale[k])}`);
    const inSize = y.shape[d],
      outSize = outputShape[d];
    if (!Number.isInteger(outSize) || outSize < 1)
      throw new ValueError(`${op}: outputShape[${d}] must be a positive integer; received ${fmtValue(outSize)}`);
    const w = tensor(axisWeights(inSize, outSize, scale[k], translation[k], kernel, antialias), [inSize, outSize], x.dtype);
    const last = moveaxis(y, d, -1);
    const rows = reshape(last, [last.size / inSize, inSize]);
    const moved = reshape(matmul(rows, w), [...last.shape.slice(0, -1), outSize]);
    y = moveaxis(moved, -1, d);
  });
  return y;
}
