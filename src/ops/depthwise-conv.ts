import type { Conv2dAttrs, ConvActivation } from '../backend/primitives.js';
import { promoteTypes } from '../core/dtype.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import { eye } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkNhwc } from './conv-geometry.js';
import { conv2dPlanned, planConv2d, planFromAttrs, type Conv2dOptions, type ConvPlan } from './conv.js';
import { add, cast, mul } from './elementwise.js';
import { applyActivation } from './fused.js';
import { matmul } from './linalg.js';
import { extractPatches, foldPatches } from './patches.js';
import { hasKernel, runPrimitive } from './run.js';
import { reshape, transpose } from './shape-ops.js';

// Note [Depthwise convolution]
// A depthwise convolution filters each input channel on its own: output channel c*dm + m is
// channel c convolved with kernel[:, :, c, m] (TensorFlow's order). A backend may run it as the
// optional primitives depthwiseConv2d and its two gradients (native: oneDNN's grouped
// convolution with one group per channel, native/src/conv.cc); their VJP rules are
// these same ops, so higher derivatives work. Without the kernels it is composed from
// differentiable ops, two ways:
//  * block-diagonal: a dense conv2d whose [kh, kw, C, C*dm] filter is zero off the diagonal
//    (the kernel times an identity, so the gradient keeps only the diagonal). It does C times
//    the useful multiply-adds, but in the backend's conv kernel; before the depthwise kernel,
//    measured on native, forward + backward, 3x3 'same': [32,112,112,32] 0.47 s vs 4.3 s for the
//    gather form, [16,28,28,128] 0.17 s vs 0.41 s, slower beyond C = 256.
//  * gather + batched matmul: extractPatches reads every window as [N, P, K, C] (P output
//    pixels, K = kh*kw taps); moved to [C, N*P, K] it meets the kernel as [C, K, dm] in one
//    batched matmul, one batch per channel. Only the useful work, but a K-fold gather and two
//    transposes; used for wide layers and where the backend has no conv2d kernel (reference).
// The two gradients without their kernels are the transposes of the gather form (a matmul
// then foldPatches for the input, patches times dy for the filter). All forms are exact; the
// composites are the test oracle for the kernels (test/native-depthwise.test.ts).
const BLOCK_DIAGONAL_MAX_CHANNELS = 192;

/**
 * Depthwise 2-D convolution: x NHWC [N, H, W, C], kernel [kh, kw, C, depthMultiplier] (Keras's
 * layout), output [N, outH, outW, C * depthMultiplier]; strides, padding and dilation as conv2d.
 * See Note [Depthwise convolution].
 */
export function depthwiseConv2d(x: Tensor, kernel: Tensor, options: Conv2dOptions = {}): Tensor {
  const dtype = promoteTypes(x.dtype, kernel.dtype);
  [x, kernel] = [cast(x, dtype), cast(kernel, dtype)];
  return depthwiseConv2dPlanned(x, kernel, planDepthwise(x, kernel, options));
}

/** Validates shapes and resolves the geometry (the plan of the equivalent dense conv). */
export function planDepthwise(x: Tensor, kernel: Tensor, options: Conv2dOptions): ConvPlan {
  checkNhwc('depthwiseConv2d', x);
  if (kernel.rank !== 4 || kernel.shape[2] !== x.shape[3]) {
    throw new ShapeError(
      `depthwiseConv2d: kernel must be [kh, kw, ${x.shape[3]}, depthMultiplier] for x ${fmtShape(x.shape)}; received ${fmtShape(kernel.shape)}`,
    );
  }
  const [kh, kw, c, dm] = kernel.shape;
  return planConv2d('depthwiseConv2d', x.shape, [kh, kw, c, c * dm], options);
}

/** The plan for explicit kernel attributes and a [kh, kw, C, dm] kernel (what gradient rules have in hand). */
export function depthwisePlanFromAttrs(xShape: readonly number[], kernelShape: readonly number[], attrs: Conv2dAttrs): ConvPlan {
  const [kh, kw, c, dm] = kernelShape;
  return planFromAttrs(xShape, [kh, kw, c, c * dm], attrs);
}

/** The backend's depthwise kernel when it has one, else the faster composite for this backend. */
export function depthwiseConv2dPlanned(x: Tensor, kernel: Tensor, plan: ConvPlan): Tensor {
  if (hasKernel('depthwiseConv2d', x)) return runPrimitive('depthwiseConv2d', [x, kernel], plan.attrs, plan.outShape, x.dtype);
  return depthwiseComposite(x, kernel, plan);
}

/**
 * activation(depthwiseConv2d(x, kernel) + bias), bias [C * dm]: one kernel where the backend has
 * fusedDepthwiseConv2d (native: oneDNN's grouped convolution with its bias, then the activation in
 * the same call), else the ops it stands for, which are also its oracle.
 */
export function fusedDepthwiseConv2dPlanned(x: Tensor, kernel: Tensor, bias: Tensor, activation: ConvActivation, plan: ConvPlan): Tensor {
  if (hasKernel('fusedDepthwiseConv2d', x)) {
    return runPrimitive('fusedDepthwiseConv2d', [x, kernel, bias], { ...plan.attrs, activation }, plan.outShape, x.dtype);
  }
  return applyActivation(add(depthwiseConv2dPlanned(x, kernel, plan), bias), activation);
}

/**
 * The composite forward pass: block-diagonal where the backend has conv2d, C is small and x and
 * the kernel are known to be finite (the zeros off the diagonal would turn a NaN or an infinity
 * of one channel into NaN in every channel of its windows: 0 * NaN and 0 * Inf are NaN).
 */
export function depthwiseComposite(x: Tensor, kernel: Tensor, plan: ConvPlan): Tensor {
  const useDense = hasKernel('conv2d', x) && kernel.shape[2] <= BLOCK_DIAGONAL_MAX_CHANNELS && knownFinite(x) && knownFinite(kernel);
  return useDense ? depthwiseBlockDiagonal(x, kernel, plan) : depthwiseGatherMatmul(x, kernel, plan);
}

/** Whether every value of `t` is finite, as far as can be told without waiting for a read. */
function knownFinite(t: Tensor): boolean {
  const values = t.hostValues();
  if (!values) return false;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/** The dense conv2d with a block-diagonal filter. */
export function depthwiseBlockDiagonal(x: Tensor, kernel: Tensor, plan: ConvPlan): Tensor {
  const [kh, kw, c, dm] = kernel.shape;
  // full[i, j, c', c*dm + m] = (c' == c) * kernel[i, j, c, m]
  const diagonal = reshape(eye(c, c, kernel.dtype), [c, c, 1]);
  const full = reshape(mul(reshape(kernel, [kh, kw, 1, c, dm]), diagonal), [kh, kw, c, c * dm]);
  return conv2dPlanned(x, full, plan);
}

/** Every window as [C, N*P, K]: the gathered input, one batch per channel. */
function channelPatches(x: Tensor, plan: ConvPlan, taps: number): Tensor {
  const patches = extractPatches(x, plan.windows); // [N, P, K, C]
  return reshape(transpose(patches, [3, 0, 1, 2]), [x.shape[3], -1, taps]);
}

/** The kernel [kh, kw, C, dm] as [C, K, dm]. */
const channelWeights = (kernel: Tensor, taps: number): Tensor => transpose(reshape(kernel, [taps, kernel.shape[2], -1]), [1, 0, 2]);

/** An NHWC gradient [N, oh, ow, C*dm] as [C, N*P, dm]. */
const channelGradient = (dy: Tensor, c: number): Tensor => transpose(reshape(dy, [-1, c, dy.shape[3] / c]), [1, 0, 2]);

/** The gather of every window and one batched matmul per channel. */
export function depthwiseGatherMatmul(x: Tensor, kernel: Tensor, plan: ConvPlan): Tensor {
  const [kh, kw] = kernel.shape;
  const y = matmul(channelPatches(x, plan, kh * kw), channelWeights(kernel, kh * kw)); // [C, N*P, dm]
  return reshape(transpose(y, [1, 0, 2]), plan.outShape);
}

/** The gradient of depthwiseConv2d with respect to x, for dy [N, outH, outW, C*dm]. */
export function depthwiseBackpropInputPlanned(dy: Tensor, kernel: Tensor, inputShape: readonly number[], plan: ConvPlan): Tensor {
  if (hasKernel('depthwiseConv2dBackpropInput', dy)) {
    return runPrimitive('depthwiseConv2dBackpropInput', [dy, kernel], { ...plan.attrs, inputShape: inputShape.slice() }, inputShape, dy.dtype);
  }
  const [kh, kw, c] = kernel.shape;
  // Each window's taps: [C, N*P, dm] x [C, K, dm]^T -> [C, N*P, K], folded back as [N*P, K, C].
  const cols = matmul(channelGradient(dy, c), channelWeights(kernel, kh * kw), false, true);
  return foldPatches(transpose(cols, [1, 2, 0]), plan.windows, inputShape);
}

/** The gradient of depthwiseConv2d with respect to its kernel [kh, kw, C, dm]. */
export function depthwiseBackpropFilterPlanned(x: Tensor, dy: Tensor, kernelShape: readonly number[], plan: ConvPlan): Tensor {
  if (hasKernel('depthwiseConv2dBackpropFilter', x)) {
    return runPrimitive('depthwiseConv2dBackpropFilter', [x, dy], { ...plan.attrs, filterShape: kernelShape.slice() }, kernelShape, x.dtype);
  }
  const [kh, kw, c] = kernelShape;
  // [C, N*P, K]^T x [C, N*P, dm] -> [C, K, dm], back to [K, C, dm].
  const dk = matmul(channelPatches(x, plan, kh * kw), channelGradient(dy, c), true, false);
  return reshape(transpose(dk, [1, 0, 2]), kernelShape);
}
