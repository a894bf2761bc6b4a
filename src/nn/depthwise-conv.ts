import { promoteTypes } from '../core/dtype.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import { checkNhwc } from '../ops/conv-geometry.js';
import { conv2dPlanned, planConv2d, type Conv2dOptions, type ConvPlan } from '../ops/conv.js';
import { cast, mul } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { extractPatches } from '../ops/patches.js';
import { hasKernel } from '../ops/run.js';
import { reshape, transpose } from '../ops/shape-ops.js';
import { eye } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

// Note [Depthwise convolution without a kernel]
// A depthwise convolution filters each input channel on its own: output channel c*dm + m is
// channel c convolved with kernel[:, :, c, m] (TensorFlow's order). No backend has a kernel for
// it, so it is composed from differentiable ops, two ways:
//  * block-diagonal: a dense conv2d whose [kh, kw, C, C*dm] filter is zero off the diagonal
//    (the kernel times an identity, so the gradient keeps only the diagonal). It does C times
//    the useful multiply-adds, but in the backend's conv kernel (oneDNN on native); measured on
//    native, forward + backward, 3x3 'same': [32,112,112,32] 0.47 s vs 4.3 s for the gather form,
//    [16,28,28,128] 0.17 s vs 0.41 s, even at C = 256, slower beyond (C = 512: 0.36 s vs 0.14 s).
//  * gather + batched matmul: extractPatches reads every window as [N, P, K, C] (P output
//    pixels, K = kh*kw taps); moved to [C, N*P, K] it meets the kernel as [C, K, dm] in one
//    batched matmul, one batch per channel. Only the useful work, but a K-fold gather and two
//    transposes; used for wide layers and where the backend has no conv2d kernel (reference).
// Both are exact; test/conv-family.test.ts checks they agree, values and gradients.
const BLOCK_DIAGONAL_MAX_CHANNELS = 192;

/**
 * Depthwise 2-D convolution: x NHWC [N, H, W, C], kernel [kh, kw, C, depthMultiplier] (Keras's
 * layout), output [N, outH, outW, C * depthMultiplier]; strides, padding and dilation as conv2d.
 * See Note [Depthwise convolution without a kernel].
 */
export function depthwiseConv2d(x: Tensor, kernel: Tensor, options: Conv2dOptions = {}): Tensor {
  const dtype = promoteTypes(x.dtype, kernel.dtype);
  [x, kernel] = [cast(x, dtype), cast(kernel, dtype)];
  const plan = planDepthwise(x, kernel, options);
  const useDense = hasKernel('conv2d', x) && kernel.shape[2] <= BLOCK_DIAGONAL_MAX_CHANNELS;
  return useDense ? depthwiseBlockDiagonal(x, kernel, plan) : depthwiseGatherMatmul(x, kernel, plan);
}

/** Validates shapes and resolves the geometry (the plan of the equivalent dense conv). */
export function planDepthwise(x: Tensor, kernel: Tensor, options: Conv2dOptions): ConvPlan {
  checkNhwc('depthwiseConv2d', x);
  if (kernel.rank !== 4 || kernel.shape[2] !== x.shape[3]) {
    throw new ShapeError(`depthwiseConv2d: kernel must be [kh, kw, ${x.shape[3]}, depthMultiplier] for x ${fmtShape(x.shape)}; received ${fmtShape(kernel.shape)}`);
  }
  const [kh, kw, c, dm] = kernel.shape;
  return planConv2d('depthwiseConv2d', x.shape, [kh, kw, c, c * dm], options);
}

/** The dense conv2d with a block-diagonal filter. */
export function depthwiseBlockDiagonal(x: Tensor, kernel: Tensor, plan: ConvPlan): Tensor {
  const [kh, kw, c, dm] = kernel.shape;
  // full[i, j, c', c*dm + m] = (c' == c) * kernel[i, j, c, m]
  const diagonal = reshape(eye(c, c, kernel.dtype), [c, c, 1]);
  const full = reshape(mul(reshape(kernel, [kh, kw, 1, c, dm]), diagonal), [kh, kw, c, c * dm]);
  return conv2dPlanned(x, full, plan);
}

/** The gather of every window and one batched matmul per channel. */
export function depthwiseGatherMatmul(x: Tensor, kernel: Tensor, plan: ConvPlan): Tensor {
  const [kh, kw, c, dm] = kernel.shape;
  const [n, outH, outW] = plan.outShape;
  const taps = kh * kw, pixels = n * outH * outW;
  const patches = extractPatches(x, plan.windows); // [N, P, K, C]
  const cols = reshape(transpose(patches, [3, 0, 1, 2]), [c, pixels, taps]);
  const weights = transpose(reshape(kernel, [taps, c, dm]), [1, 0, 2]); // [C, K, dm]
  const y = matmul(cols, weights); // [C, N*P, dm]
  return reshape(transpose(y, [1, 0, 2]), [n, outH, outW, c * dm]);
}
