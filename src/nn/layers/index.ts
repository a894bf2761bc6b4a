import { recurrentLayers } from './recurrent-layers.js';
import { attentionFamilyLayers } from './attention-family.js';
import { normAugmentLayers } from './norm-augment-family.js';
import { convFamilyLayers } from './conv-family.js';
import { Dense, type DenseArgs } from './dense.js';
import { Conv2D, type Conv2dArgs } from './conv.js';
import { AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D, type GlobalPooling2dArgs, type Pooling2dArgs } from './pooling.js';
import { ActivationLayer, Dropout, Flatten, Reshape, type ActivationArgs, type DropoutArgs, type ReshapeArgs } from './core.js';
import { BatchNormalization, LayerNormalization, type BatchNormalizationArgs, type LayerNormalizationArgs } from './normalization.js';
import { Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, type ConcatenateArgs } from './merge.js';
import { input, InputLayer } from './input.js';
import type { LayerArgs } from '../layer.js';
import { deserializeLayer, registerLayer, serializeLayer } from '../registry.js';

export { Dense, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, ActivationLayer, Dropout, Flatten, Reshape };
export { BatchNormalization, LayerNormalization, Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, InputLayer, input };
export type { DenseArgs, Conv2dArgs, Pooling2dArgs, GlobalPooling2dArgs, ActivationArgs, DropoutArgs, ReshapeArgs, BatchNormalizationArgs, LayerNormalizationArgs, ConcatenateArgs };

/** `st.layers.*`: factories with Keras's names and options, as in tfjs. */
export const layers = {
  input,
  dense: (args: DenseArgs) => new Dense(args),
  conv2d: (args: Conv2dArgs) => new Conv2D(args),
  maxPooling2d: (args: Pooling2dArgs = {}) => new MaxPooling2D(args),
  averagePooling2d: (args: Pooling2dArgs = {}) => new AveragePooling2D(args),
  globalAveragePooling2d: (args: GlobalPooling2dArgs = {}) => new GlobalAveragePooling2D(args),
  globalMaxPooling2d: (args: GlobalPooling2dArgs = {}) => new GlobalMaxPooling2D(args),
  flatten: (args: LayerArgs = {}) => new Flatten(args),
  reshape: (args: ReshapeArgs) => new Reshape(args),
  dropout: (args: DropoutArgs) => new Dropout(args),
  activation: (args: ActivationArgs) => new ActivationLayer(args),
  batchNormalization: (args: BatchNormalizationArgs = {}) => new BatchNormalization(args),
  layerNormalization: (args: LayerNormalizationArgs = {}) => new LayerNormalization(args),
  add: (args: LayerArgs = {}) => new Add(args),
  subtract: (args: LayerArgs = {}) => new Subtract(args),
  multiply: (args: LayerArgs = {}) => new Multiply(args),
  average: (args: LayerArgs = {}) => new Average(args),
  maximum: (args: LayerArgs = {}) => new Maximum(args),
  minimum: (args: LayerArgs = {}) => new Minimum(args),
  concatenate: (args: ConcatenateArgs = {}) => new Concatenate(args),
  // Layer families from other files are spread in here (one line each).
  ...recurrentLayers,
  ...attentionFamilyLayers,
  ...normAugmentLayers,
  ...convFamilyLayers,
  registerLayer,
  /** A layer (or model) from its {className, config} form; only registered classes. */
  deserialize: deserializeLayer,
  serialize: serializeLayer,
};
