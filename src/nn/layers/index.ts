import { recurrentLayers } from './recurrent-layers.js';
import { attentionFamilyLayers } from './attention-family.js';
import { normAugmentLayers } from './norm-augment-family.js';
import { convFamilyLayers } from './conv-family.js';
import { conv3dFamilyLayers } from './conv3d-layers.js';
import { conv1dVariantLayers } from './conv1d-variants.js';
import { scoreAttentionLayers } from './score-attention.js';
import { adaptivePoolingLayers } from './adaptive-pooling.js';
import { einsumDenseLayers } from './einsum-dense.js';
import { reluLayers } from './relu.js';
import { extraLayers } from './extra-layers.js';
import { moreAugmentationLayers } from './more-augmentation.js';
import { depthToSpaceLayers } from './depth-to-space.js';
import { groupQueryAttentionLayers } from './group-query-attention.js';
import { Dense, type DenseArgs } from './dense.js';
import { Conv2D, type Conv2dArgs } from './conv.js';
import {
  AveragePooling2D,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  MaxPooling2D,
  type GlobalPooling2dArgs,
  type Pooling2dArgs,
} from './pooling.js';
import { ActivationLayer, Dropout, Flatten, Reshape, type ActivationArgs, type DropoutArgs, type ReshapeArgs } from './core.js';
import { BatchNormalization, LayerNormalization, type BatchNormalizationArgs, type LayerNormalizationArgs } from './normalization.js';
import { Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, type ConcatenateArgs } from './merge.js';
import { input, InputLayer } from './input.js';
import type { LayerArgs } from '../layer.js';
import { deserializeLayer, registerLayer, serializeLayer } from '../registry.js';

export { Dense, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, ActivationLayer, Dropout, Flatten, Reshape };
export { BatchNormalization, LayerNormalization, Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, InputLayer, input };
export type {
  DenseArgs,
  Conv2dArgs,
  Pooling2dArgs,
  GlobalPooling2dArgs,
  ActivationArgs,
  DropoutArgs,
  ReshapeArgs,
  BatchNormalizationArgs,
  LayerNormalizationArgs,
  ConcatenateArgs,
};

/**
 * `st.layers.*`: one factory per layer, with Keras's names (camelCase, as in tfjs) and options
 * objects. Each returns a new, unbuilt layer: its weights are created on the first `apply()` (or
 * when a model builds). Unknown option names are a ValueError, as are bad values.
 * @namespace
 */
export const layers = {
  /** A symbolic input for the functional API; the same function as `st.input`. */
  input,
  /**
   * A fully connected layer (Keras's Dense): `activation(x · kernel + bias)` over the last axis,
   * kernel [inputDim, units]; inputs of rank > 2 are handled per position.
   * @throws ValueError for a missing or bad `units`, an unknown activation or option.
   * @example
   * ```ts
   * const layer = st.layers.dense({ units: 4, activation: 'relu' });
   * console.log(layer.apply(st.ones([2, 3])).shape); // [2, 4]; the kernel is [3, 4]
   * ```
   */
  dense: (args: DenseArgs) => new Dense(args),
  /**
   * A 2-D convolution over [batch, height, width, channels] with a [kh, kw, in, filters] kernel
   * (Keras's Conv2D); runs as one fused kernel with its bias and a ReLU or linear activation.
   * @throws ValueError for a missing filters or kernelSize, bad strides or dilation; ShapeError when
   * a 'valid' input is smaller than the kernel.
   */
  conv2d: (args: Conv2dArgs) => new Conv2D(args),
  /**
   * Max pooling over 2-D windows of NHWC inputs (Keras's MaxPooling2D); default 2x2 windows, stride
   * = window.
   */
  maxPooling2d: (args: Pooling2dArgs = {}) => new MaxPooling2D(args),
  /** Average pooling over 2-D windows of NHWC inputs (Keras's AveragePooling2D). */
  averagePooling2d: (args: Pooling2dArgs = {}) => new AveragePooling2D(args),
  /**
   * Each channel's mean over height and width: [N, H, W, C] to [N, C] (Keras's
   * GlobalAveragePooling2D).
   */
  globalAveragePooling2d: (args: GlobalPooling2dArgs = {}) => new GlobalAveragePooling2D(args),
  /** Each channel's maximum over height and width: [N, H, W, C] to [N, C]. */
  globalMaxPooling2d: (args: GlobalPooling2dArgs = {}) => new GlobalMaxPooling2D(args),
  /** Flattens each sample, keeping the batch axis: [N, H, W, C] to [N, H·W·C] (Keras's Flatten). */
  flatten: (args: LayerArgs = {}) => new Flatten(args),
  /**
   * Reshapes each sample to `targetShape`, keeping the batch axis (Keras's Reshape).
   * @throws ValueError for a bad targetShape; ShapeError when a sample does not fit it.
   */
  reshape: (args: ReshapeArgs) => new Reshape(args),
  /**
   * Inverted dropout (Keras's Dropout): while training, zeroes each value with probability `rate`
   * and scales the rest by 1 / (1 - rate); at inference it passes values through.
   * @throws ValueError for a rate outside [0, 1).
   */
  dropout: (args: DropoutArgs) => new Dropout(args),
  /**
   * Applies an activation function (Keras's Activation layer).
   * @throws ValueError without an activation or for an unknown name.
   */
  activation: (args: ActivationArgs) => new ActivationLayer(args),
  /**
   * Batch normalization (Keras's BatchNormalization): while training, normalizes with the batch's
   * mean and variance over every axis but `axis` and updates moving averages of them; at inference
   * (or when frozen) it uses the moving averages.
   * @throws ValueError for a bad epsilon, momentum or axis.
   */
  batchNormalization: (args: BatchNormalizationArgs = {}) => new BatchNormalization(args),
  /**
   * Layer normalization (Keras's LayerNormalization): normalizes each sample over `axis` (default
   * the last) with its own mean and variance, then applies gamma and beta.
   */
  layerNormalization: (args: LayerNormalizationArgs = {}) => new LayerNormalization(args),
  /**
   * Adds a list of inputs elementwise (with broadcasting); apply it to an array of tensors.
   * @throws ValueError for fewer than two inputs; ShapeError when they do not broadcast.
   */
  add: (args: LayerArgs = {}) => new Add(args),
  /**
   * Subtracts the second of exactly two inputs from the first.
   * @throws ValueError unless given two inputs.
   */
  subtract: (args: LayerArgs = {}) => new Subtract(args),
  /** Multiplies a list of inputs elementwise (with broadcasting). */
  multiply: (args: LayerArgs = {}) => new Multiply(args),
  /** Averages a list of inputs elementwise (with broadcasting). */
  average: (args: LayerArgs = {}) => new Average(args),
  /** The elementwise maximum of a list of inputs. */
  maximum: (args: LayerArgs = {}) => new Maximum(args),
  /** The elementwise minimum of a list of inputs. */
  minimum: (args: LayerArgs = {}) => new Minimum(args),
  /**
   * Joins a list of inputs along `axis` (default -1); every other size must agree (Keras's
   * Concatenate).
   * @throws ValueError for a bad axis; ShapeError when the other sizes differ.
   */
  concatenate: (args: ConcatenateArgs = {}) => new Concatenate(args),
  // Layer families from other files are spread in here (one line each).
  ...recurrentLayers,
  ...attentionFamilyLayers,
  ...normAugmentLayers,
  ...convFamilyLayers,
  ...conv3dFamilyLayers,
  ...conv1dVariantLayers,
  ...scoreAttentionLayers,
  ...adaptivePoolingLayers,
  ...einsumDenseLayers,
  ...groupQueryAttentionLayers,
  ...reluLayers,
  ...extraLayers,
  ...moreAugmentationLayers,
  ...depthToSpaceLayers,
  /**
   * Registers a custom layer class's factory under its class name, so saved models that use it can
   * be loaded (Keras's custom objects).
   */
  registerLayer,
  /**
   * A layer (or model) from its {className, config} form; only registered classes.
   * @throws ValueError for an unregistered class name or a bad config.
   */
  deserialize: deserializeLayer,
  /** A layer's `{className, config}` form, as model.json stores it. */
  serialize: serializeLayer,
};
