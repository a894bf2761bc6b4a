import { ShapeError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { conv2d, conv2dBackpropInput, floatPair, type Conv2dOptions } from './conv.js';
import { depthwiseConv2d as depthwiseOp } from './depthwise-conv.js';
import { asTensor, type TensorInput } from './operand.js';
import { reshape } from './shape-ops.js';

// The convolution ops of tfjs that Strata's layers already run, as ops of their own: depthwise,
// separable (depthwise then 1x1), 1-D (a height-1 2-D convolution) and transposed (the input
// gradient of a convolution). They share conv2d's options and its backend kernels.

/**
 * Depthwise 2-D convolution: x NHWC [N, H, W, C] with a filter [kh, kw, C, multiplier] per
 * channel gives [N, outH, outW, C * multiplier] (tfjs's depthwiseConv2d).
 */
export function depthwiseConv2d(x: TensorInput, filter: TensorInput, options: Conv2dOptions = {}): Tensor {
  const [tx, tf] = floatPair('depthwiseConv2d', x, filter, ['x', 'filter']);
  return depthwiseOp(tx, tf, options);
}

/**
 * A depthwise convolution followed by a 1x1 convolution mixing the channels: depthwiseFilter
 * [kh, kw, C, multiplier], pointwiseFilter [1, 1, C * multiplier, out] (tfjs's separableConv2d).
 */
export function separableConv2d(x: TensorInput, depthwiseFilter: TensorInput, pointwiseFilter: TensorInput, options: Conv2dOptions = {}): Tensor {
  const pointwise = asTensor('separableConv2d', 'pointwiseFilter', pointwiseFilter);
  if (pointwise.rank !== 4 || pointwise.shape[0] !== 1 || pointwise.shape[1] !== 1) {
    throw new ShapeError(`separableConv2d: pointwiseFilter must be [1, 1, channels, out]; received ${fmtShape(pointwise.shape)}`);
  }
  return conv2d(depthwiseConv2d(x, depthwiseFilter, options), pointwise);
}

/** Options of st.conv1d: one stride and one dilation, as numbers. */
export interface Conv1dOptions {
  /** The step between windows. Default 1. */
  stride?: number;
  /** 'valid' (default) or 'same'. */
  padding?: 'valid' | 'same';
  /** Spacing between the filter's taps. Default 1. */
  dilation?: number;
}

/** 1-D convolution: x [N, W, C], filter [k, C, out] → [N, outW, out], as a height-1 conv2d (tfjs's conv1d). */
export function conv1d(x: TensorInput, filter: TensorInput, options: Conv1dOptions = {}): Tensor {
  const [tx, tf] = floatPair('conv1d', x, filter, ['x', 'filter']);
  if (tx.rank !== 3 || tf.rank !== 3) {
    throw new ShapeError(
      `conv1d: x must be [batch, width, channels] and filter [width, in, out]; received ${fmtShape(tx.shape)} and ${fmtShape(tf.shape)}`,
    );
  }
  const { stride = 1, padding = 'valid', dilation = 1 } = options;
  const y = conv2d(reshape(tx, [tx.shape[0], 1, ...tx.shape.slice(1)]), reshape(tf, [1, ...tf.shape]), {
    strides: [1, stride],
    padding,
    dilation: [1, dilation],
  });
  return reshape(y, [y.shape[0], ...y.shape.slice(2)]);
}

/**
 * The transposed convolution (tfjs's conv2dTranspose): x [N, h, w, C] spread over an output of
 * `outputShape` [N, H, W, out] with filter [kh, kw, out, C]; the input gradient of the
 * convolution that maps outputShape to x's shape.
 */
export function conv2dTranspose(x: TensorInput, filter: TensorInput, outputShape: readonly number[], options: Conv2dOptions = {}): Tensor {
  return conv2dBackpropInput(x, filter, outputShape, options);
}
