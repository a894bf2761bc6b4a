// The convolution family of st.layers: 1-D convolution and pooling, transposed, depthwise and
// separable convolutions, and the pixel-moving layers (upsampling, zero padding, cropping).
import { Conv1D, type Conv1dArgs, type Conv1dPadding } from './conv1d.js';
import { Conv2DTranspose, type Conv2dTransposeArgs } from './conv-transpose.js';
import { DepthwiseConv2D, SeparableConv2D, type DepthwiseConv2dArgs, type SeparableConv2dArgs } from './depthwise.js';
import {
  AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D, type GlobalPooling1dArgs, type Pooling1dArgs,
} from './pooling1d.js';
import {
  Cropping2D, UpSampling2D, ZeroPadding2D, type Cropping2dArgs, type UpSampling2dArgs, type UpSamplingInterpolation, type ZeroPadding2dArgs,
} from './spatial.js';

export { Conv1D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D };
export { UpSampling2D, ZeroPadding2D, Cropping2D };
export type {
  Conv1dArgs, Conv1dPadding, Conv2dTransposeArgs, DepthwiseConv2dArgs, SeparableConv2dArgs, Pooling1dArgs, GlobalPooling1dArgs,
  UpSampling2dArgs, UpSamplingInterpolation, ZeroPadding2dArgs, Cropping2dArgs,
};

/** Factories spread into st.layers (Keras's names in camelCase, as tfjs). */
export const convFamilyLayers = {
  conv1d: (args: Conv1dArgs) => new Conv1D(args),
  conv2dTranspose: (args: Conv2dTransposeArgs) => new Conv2DTranspose(args),
  depthwiseConv2d: (args: DepthwiseConv2dArgs) => new DepthwiseConv2D(args),
  separableConv2d: (args: SeparableConv2dArgs) => new SeparableConv2D(args),
  upSampling2d: (args: UpSampling2dArgs = {}) => new UpSampling2D(args),
  zeroPadding2d: (args: ZeroPadding2dArgs = {}) => new ZeroPadding2D(args),
  cropping2d: (args: Cropping2dArgs = {}) => new Cropping2D(args),
  maxPooling1d: (args: Pooling1dArgs = {}) => new MaxPooling1D(args),
  averagePooling1d: (args: Pooling1dArgs = {}) => new AveragePooling1D(args),
  globalAveragePooling1d: (args: GlobalPooling1dArgs = {}) => new GlobalAveragePooling1D(args),
  globalMaxPooling1d: (args: GlobalPooling1dArgs = {}) => new GlobalMaxPooling1D(args),
};
