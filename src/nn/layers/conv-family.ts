// The convolution family of st.layers: 1-D convolution and pooling, transposed, depthwise and
// separable convolutions, and the pixel-moving layers (upsampling, zero padding, cropping).
import { Conv1D, type Conv1dArgs, type Conv1dPadding } from './conv1d.js';
import { Conv2DTranspose, type Conv2dTransposeArgs } from './conv-transpose.js';
import { DepthwiseConv2D, SeparableConv2D, type DepthwiseConv2dArgs, type SeparableConv2dArgs } from './depthwise.js';
import {
  AveragePooling1D,
  GlobalAveragePooling1D,
  GlobalMaxPooling1D,
  MaxPooling1D,
  type GlobalPooling1dArgs,
  type Pooling1dArgs,
} from './pooling1d.js';
import {
  Cropping2D,
  UpSampling2D,
  ZeroPadding2D,
  type Cropping2dArgs,
  type UpSampling2dArgs,
  type UpSamplingInterpolation,
  type ZeroPadding2dArgs,
} from './spatial.js';

export { Conv1D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D };
export { UpSampling2D, ZeroPadding2D, Cropping2D };
export type {
  Conv1dArgs,
  Conv1dPadding,
  Conv2dTransposeArgs,
  DepthwiseConv2dArgs,
  SeparableConv2dArgs,
  Pooling1dArgs,
  GlobalPooling1dArgs,
  UpSampling2dArgs,
  UpSamplingInterpolation,
  ZeroPadding2dArgs,
  Cropping2dArgs,
};

/** Factories spread into st.layers (Keras's names in camelCase, as tfjs). */
export const convFamilyLayers = {
  /**
   * A 1-D convolution over [batch, steps, channels] (Keras's Conv1D), with 'causal' padding for
   * sequence models.
   */
  conv1d: (args: Conv1dArgs) => new Conv1D(args),
  /** A transposed 2-D convolution (Keras's Conv2DTranspose), the upsampling counterpart of conv2d. */
  conv2dTranspose: (args: Conv2dTransposeArgs) => new Conv2DTranspose(args),
  /** A depthwise 2-D convolution (Keras's DepthwiseConv2D): each input channel filtered on its own. */
  depthwiseConv2d: (args: DepthwiseConv2dArgs) => new DepthwiseConv2D(args),
  /**
   * A depthwise convolution followed by a 1x1 convolution to `filters` channels (Keras's
   * SeparableConv2D).
   */
  separableConv2d: (args: SeparableConv2dArgs) => new SeparableConv2D(args),
  /** Enlarges images by integer factors (Keras's UpSampling2D; default 2, nearest). */
  upSampling2d: (args: UpSampling2dArgs = {}) => new UpSampling2D(args),
  /** Adds rows and columns of zeros around each image (Keras's ZeroPadding2D; default 1 each side). */
  zeroPadding2d: (args: ZeroPadding2dArgs = {}) => new ZeroPadding2D(args),
  /** Removes rows and columns from the edges of each image (Keras's Cropping2D). */
  cropping2d: (args: Cropping2dArgs = {}) => new Cropping2D(args),
  /** Max pooling over windows of steps (Keras's MaxPooling1D; default window 2). */
  maxPooling1d: (args: Pooling1dArgs = {}) => new MaxPooling1D(args),
  /** Average pooling over windows of steps (Keras's AveragePooling1D). */
  averagePooling1d: (args: Pooling1dArgs = {}) => new AveragePooling1D(args),
  /** Each channel's mean over the steps, masked steps excluded (Keras's GlobalAveragePooling1D). */
  globalAveragePooling1d: (args: GlobalPooling1dArgs = {}) => new GlobalAveragePooling1D(args),
  /** Each channel's maximum over the steps (Keras's GlobalMaxPooling1D). */
  globalMaxPooling1d: (args: GlobalPooling1dArgs = {}) => new GlobalMaxPooling1D(args),
};
