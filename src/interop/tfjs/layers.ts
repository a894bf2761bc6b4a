// One Keras 2.x layer config (as tfjs writes it: snake_case keys) turned into the config of the
// Strata layer class that computes the same thing. Keys that only matter when a layer is created
// from scratch (initializers, constraints) or that Strata has no use for (`shared_object_id`,
// `ragged`, `sparse: false`) are tolerated and dropped; keys that would change the computation and
// that Strata cannot honour (channels_first, groups > 1, a non-float32 dtype) are refused by name.

import { ValueError, fmtValue } from '../../core/errors.js';
import type { SerializedLayer } from '../../nn/registry.js';
import '../../nn/layers/activation-layers.js'; // registers 'Softmax', which Keras's Softmax layers become

type Config = Record<string, unknown>;

/** The Strata class and config of one Keras layer, and how its Keras weight names map to Strata's. */
export interface ConvertedLayer {
  /** The Strata layer's serialized form. */
  spec: SerializedLayer;
  /** Strata weight name → Keras weight name, where they differ (DepthwiseConv2D's kernel). */
  weightNames: Record<string, string>;
}

/** Keras's snake_case key as Strata's camelCase option name. */
const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A serialized Keras object ({class_name, config}) as Strata's {className, config}, its keys camelCased. */
function serialized(v: unknown): unknown {
  if (v === null || v === undefined || typeof v === 'string') return v ?? null;
  const o = v as Config;
  const config = Object.fromEntries(Object.entries((o.config ?? {}) as Config).map(([k, x]) => [camel(k), x]));
  return { className: o.class_name, config };
}

/**
 * Copies `keys` (snake_case) from a Keras config under their camelCase names, regularizers
 * converted. A null is Keras's "the default" (strides of a pooling, mask_zero written by tfjs,
 * no regularizer), which an absent option means to Strata too.
 */
function pick(c: Config, keys: string[]): Config {
  const out: Config = {};
  for (const k of keys) {
    if (c[k] === undefined || c[k] === null) continue;
    out[camel(k)] = k.endsWith('_regularizer') ? serialized(c[k]) : c[k];
  }
  return out;
}

/**
 * Checks the keys whose values Strata cannot honour. Keras writes `dtype` as a string or (TF 2.x)
 * as a Policy object; only float32 layers import, since Strata's kernels and the tfjs runtime's
 * weights are float32.
 */
function checkCommon(layer: string, c: Config): void {
  const df = c.data_format;
  if (df !== undefined && df !== null && df !== 'channels_last')
    throw new ValueError(`data_format must be 'channels_last'; received ${fmtValue(df)}`);
  if (c.groups !== undefined && c.groups !== 1)
    throw new ValueError(`groups must be 1 (grouped convolutions are not supported); received ${fmtValue(c.groups)}`);
  const dtype = typeof c.dtype === 'object' && c.dtype !== null ? ((c.dtype as Config).config as Config | undefined)?.name : c.dtype;
  if (dtype !== undefined && dtype !== null && dtype !== 'float32') throw new ValueError(`dtype must be 'float32'; received ${fmtValue(dtype)}`);
  if (c.sparse === true) throw new ValueError('sparse inputs are not supported');
  // Keras 2's hard_sigmoid is clip(0.2x + 0.5, 0, 1); Strata's is Keras 3's relu6(x + 3) / 6: a different function.
  for (const key of ['activation', 'recurrent_activation']) {
    if (c[key] === 'hard_sigmoid') throw new ValueError(`${key} 'hard_sigmoid' (Keras 2's clip(0.2x + 0.5, 0, 1)) is not supported`);
  }
  if (c.activity_regularizer !== undefined && c.activity_regularizer !== null) {
    throw new ValueError(`activity_regularizer is not supported (${layer}); received ${JSON.stringify(c.activity_regularizer).slice(0, 80)}`);
  }
}

const CONV = ['kernel_size', 'strides', 'padding', 'dilation_rate', 'activation', 'use_bias', 'bias_regularizer'];
const POOL = ['pool_size', 'strides', 'padding'];
const RNN = [
  'units',
  'activation',
  'use_bias',
  'return_sequences',
  'return_state',
  'go_backwards',
  'stateful',
  'unroll',
  'dropout',
  'recurrent_dropout',
  'kernel_regularizer',
  'recurrent_regularizer',
  'bias_regularizer',
];

const CELL = ['units', 'activation', 'use_bias', 'dropout', 'recurrent_dropout', 'kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer'];
const CONV_LSTM = [
  'filters',
  ...CONV,
  'recurrent_activation',
  'unit_forget_bias',
  'dropout',
  'recurrent_dropout',
  'kernel_regularizer',
  'recurrent_regularizer',
  'return_sequences',
  'return_state',
  'go_backwards',
  'stateful',
];

/** A Keras axis list of one entry ([3]) as Strata's single axis. */
function oneAxis(c: Config): Config {
  const a = c.axis;
  if (Array.isArray(a)) {
    if (a.length !== 1) throw new ValueError(`axis must name one axis; received ${fmtValue(a)}`);
    return { axis: a[0] };
  }
  return a === undefined ? {} : { axis: a };
}

/** Per Keras class: the Strata class, its options, and the Keras weight names that differ from Strata's. */
const TABLE: Record<string, (c: Config) => [string, Config, Record<string, string>?]> = {
  InputLayer: (c) => {
    const shape = c.batch_input_shape ?? c.batch_shape ?? (Array.isArray(c.input_shape) ? [null, ...c.input_shape] : undefined);
    if (!Array.isArray(shape)) throw new ValueError(`an input needs batch_input_shape; received ${fmtValue(shape)}`);
    return ['InputLayer', { batchInputShape: shape, dtype: 'float32' }];
  },
  Dense: (c) => ['Dense', pick(c, ['units', 'activation', 'use_bias', 'kernel_regularizer', 'bias_regularizer'])],
  Conv1D: (c) => ['Conv1D', pick(c, ['filters', ...CONV, 'kernel_regularizer'])],
  Conv2D: (c) => ['Conv2D', pick(c, ['filters', ...CONV, 'kernel_regularizer'])],
  Conv2DTranspose: (c) => {
    if (c.output_padding !== undefined && c.output_padding !== null) throw new ValueError('output_padding is not supported');
    return ['Conv2DTranspose', pick(c, ['filters', ...CONV, 'kernel_regularizer'])];
  },
  DepthwiseConv2D: (c) => ['DepthwiseConv2D', pick(c, ['depth_multiplier', ...CONV, 'depthwise_regularizer']), { kernel: 'depthwise_kernel' }],
  SeparableConv2D: (c) => ['SeparableConv2D', pick(c, ['filters', 'depth_multiplier', ...CONV, 'depthwise_regularizer', 'pointwise_regularizer'])],
  BatchNormalization: (c) => [
    'BatchNormalization',
    { ...pick(c, ['momentum', 'epsilon', 'center', 'scale', 'beta_regularizer', 'gamma_regularizer']), ...oneAxis(c) },
  ],
  LayerNormalization: (c) => [
    'LayerNormalization',
    { ...pick(c, ['epsilon', 'center', 'scale', 'beta_regularizer', 'gamma_regularizer']), ...oneAxis(c) },
  ],
  ReLU: (c) => ['ReLU', pick(c, ['max_value', 'negative_slope', 'threshold'])],
  // Keras 2 and tfjs write LeakyReLU's slope as alpha, Keras 3 as negative_slope (default 0.3).
  LeakyReLU: (c) => ['LeakyReLU', { negativeSlope: c.negative_slope ?? c.alpha ?? 0.3 }],
  // alpha_constraint only matters while training in Keras; the slopes are the weights.
  PReLU: (c) => ['PReLU', pick(c, ['alpha_regularizer', 'shared_axes'])],
  ELU: (c) => ['ELU', pick(c, ['alpha'])],
  ThresholdedReLU: (c) => ['ThresholdedReLU', pick(c, ['theta'])],
  Permute: (c) => ['Permute', pick(c, ['dims'])],
  RepeatVector: (c) => ['RepeatVector', pick(c, ['n'])],
  Masking: (c) => ['Masking', pick(c, ['mask_value'])],
  Dot: (c) => ['Dot', pick(c, ['axes', 'normalize'])],
  SpatialDropout1D: (c) => ['SpatialDropout1D', pick(c, ['rate', 'seed'])],
  SpatialDropout2D: (c) => ['SpatialDropout2D', pick(c, ['rate', 'seed'])],
  SpatialDropout3D: (c) => ['SpatialDropout3D', pick(c, ['rate', 'seed'])],
  AlphaDropout: (c) => ['AlphaDropout', { ...pick(c, ['rate', 'seed']), ...(Array.isArray(c.noise_shape) ? { noiseShape: c.noise_shape } : {}) }],
  ActivityRegularization: (c) => ['ActivityRegularization', pick(c, ['l1', 'l2'])],
  Identity: () => ['Identity', {}],
  ZeroPadding1D: (c) => ['ZeroPadding1D', pick(c, ['padding'])],
  ZeroPadding3D: (c) => ['ZeroPadding3D', pick(c, ['padding'])],
  Cropping1D: (c) => ['Cropping1D', pick(c, ['cropping'])],
  Cropping3D: (c) => ['Cropping3D', pick(c, ['cropping'])],
  UpSampling1D: (c) => ['UpSampling1D', pick(c, ['size'])],
  UpSampling3D: (c) => ['UpSampling3D', pick(c, ['size'])],
  RMSNormalization: (c) => ['RMSNormalization', pick(c, ['axis', 'epsilon'])],
  Normalization: (c) => ['Normalization', { ...pick(c, ['mean', 'variance', 'invert']), axis: c.axis === undefined ? -1 : c.axis }],
  CategoryEncoding: (c) => ['CategoryEncoding', pick(c, ['num_tokens', 'output_mode'])],
  Discretization: (c) => ['Discretization', pick(c, ['bin_boundaries', 'num_bins', 'epsilon', 'output_mode'])],
  Activation: (c) => ['Activation', pick(c, ['activation'])],
  Softmax: (c) => {
    const axis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : (c.axis ?? -1);
    if (!Number.isInteger(axis)) throw new ValueError(`axis must be one integer; received ${fmtValue(c.axis)}`);
    return ['Softmax', { axis }];
  },
  ZeroPadding2D: (c) => ['ZeroPadding2D', pick(c, ['padding'])],
  Cropping2D: (c) => ['Cropping2D', pick(c, ['cropping'])],
  UpSampling2D: (c) => ['UpSampling2D', pick(c, ['size', 'interpolation'])],
  MaxPooling2D: (c) => ['MaxPooling2D', pick(c, POOL)],
  AveragePooling2D: (c) => ['AveragePooling2D', pick(c, POOL)],
  MaxPooling1D: (c) => ['MaxPooling1D', pick(c, POOL)],
  AveragePooling1D: (c) => ['AveragePooling1D', pick(c, POOL)],
  GlobalAveragePooling2D: (c) => ['GlobalAveragePooling2D', pick(c, ['keepdims'])],
  GlobalMaxPooling2D: (c) => ['GlobalMaxPooling2D', pick(c, ['keepdims'])],
  GlobalAveragePooling1D: (c) => ['GlobalAveragePooling1D', pick(c, ['keepdims'])],
  GlobalMaxPooling1D: (c) => ['GlobalMaxPooling1D', pick(c, ['keepdims'])],
  Flatten: () => ['Flatten', {}],
  Reshape: (c) => ['Reshape', pick(c, ['target_shape'])],
  Dropout: (c) => ['Dropout', { ...pick(c, ['rate', 'seed']), ...(Array.isArray(c.noise_shape) ? { noiseShape: c.noise_shape } : {}) }],
  Embedding: (c) => ['Embedding', pick(c, ['input_dim', 'output_dim', 'mask_zero', 'input_length', 'embeddings_regularizer'])],
  SimpleRNN: (c) => ['SimpleRNN', pick(c, RNN)],
  LSTM: (c) => ['LSTM', pick(c, [...RNN, 'recurrent_activation', 'unit_forget_bias'])],
  // Keras 2.2.4 and tfjs write GRUs without reset_after, meaning false; TF 2.x writes it (true by default).
  GRU: (c) => ['GRU', { ...pick(c, [...RNN, 'recurrent_activation']), resetAfter: c.reset_after ?? false }],
  Add: () => ['Add', {}],
  Subtract: () => ['Subtract', {}],
  Multiply: () => ['Multiply', {}],
  Average: () => ['Average', {}],
  Maximum: () => ['Maximum', {}],
  Minimum: () => ['Minimum', {}],
  Concatenate: (c) => ['Concatenate', pick(c, ['axis'])],
  // Three-dimensional and one-dimensional variants (NDHWC / NWC, Keras's layouts and weight names).
  Conv3D: (c) => ['Conv3D', pick(c, ['filters', ...CONV, 'kernel_regularizer'])],
  Conv3DTranspose: (c) => ['Conv3DTranspose', pick(c, ['filters', ...CONV, 'kernel_regularizer', 'output_padding'])],
  MaxPooling3D: (c) => ['MaxPooling3D', pick(c, POOL)],
  AveragePooling3D: (c) => ['AveragePooling3D', pick(c, POOL)],
  GlobalAveragePooling3D: (c) => ['GlobalAveragePooling3D', pick(c, ['keepdims'])],
  GlobalMaxPooling3D: (c) => ['GlobalMaxPooling3D', pick(c, ['keepdims'])],
  Conv1DTranspose: (c) => ['Conv1DTranspose', pick(c, ['filters', ...CONV, 'kernel_regularizer', 'output_padding'])],
  // tf.keras and tfjs name the kernel depthwise_kernel (Keras 3 archives match by position).
  DepthwiseConv1D: (c) => ['DepthwiseConv1D', pick(c, ['depth_multiplier', ...CONV, 'depthwise_regularizer']), { kernel: 'depthwise_kernel' }],
  SeparableConv1D: (c) => ['SeparableConv1D', pick(c, ['filters', 'depth_multiplier', ...CONV, 'depthwise_regularizer', 'pointwise_regularizer'])],
  ConvLSTM1D: (c) => ['ConvLSTM1D', pick(c, CONV_LSTM)],
  ConvLSTM2D: (c) => ['ConvLSTM2D', pick(c, CONV_LSTM)],
  ConvLSTM3D: (c) => ['ConvLSTM3D', pick(c, CONV_LSTM)],
  EinsumDense: (c) => ['EinsumDense', pick(c, ['equation', 'output_shape', 'bias_axes', 'activation', 'kernel_regularizer', 'bias_regularizer'])],
  AdaptiveAveragePooling1D: (c) => ['AdaptiveAveragePooling1D', pick(c, ['output_size'])],
  AdaptiveAveragePooling2D: (c) => ['AdaptiveAveragePooling2D', pick(c, ['output_size'])],
  AdaptiveAveragePooling3D: (c) => ['AdaptiveAveragePooling3D', pick(c, ['output_size'])],
  AdaptiveMaxPooling1D: (c) => ['AdaptiveMaxPooling1D', pick(c, ['output_size'])],
  AdaptiveMaxPooling2D: (c) => ['AdaptiveMaxPooling2D', pick(c, ['output_size'])],
  AdaptiveMaxPooling3D: (c) => ['AdaptiveMaxPooling3D', pick(c, ['output_size'])],
  // Applied to the list [query, value] or [query, value, key]. tf.keras's deprecated `causal`
  // option is refused: it changes the result and Strata takes it as a call option instead.
  Attention: (c) => {
    if (c.causal === true) throw new ValueError("causal is not supported as a layer option (tf.keras's deprecated form); received true");
    return ['Attention', pick(c, ['use_scale', 'score_mode', 'dropout', 'seed'])];
  },
  AdditiveAttention: (c) => {
    if (c.causal === true) throw new ValueError("causal is not supported as a layer option (tf.keras's deprecated form); received true");
    return ['AdditiveAttention', pick(c, ['use_scale', 'dropout', 'seed'])];
  },
  // Called as (query, value, key): the topology makes the node the list [query, value, key]
  // (attention-calls.ts). Weight names match Strata's (query/kernel, ..., attention_output/bias).
  MultiHeadAttention: (c) => {
    const axes = c.attention_axes;
    const ok = axes === undefined || axes === null || axes === 1 || (Array.isArray(axes) && axes.length === 1 && axes[0] === 1);
    if (!ok)
      throw new ValueError(
        `attention_axes must be null or [1] (attention over the time axis of [batch, time, features]); received ${fmtValue(axes)}`,
      );
    return [
      'MultiHeadAttention',
      pick(c, ['num_heads', 'key_dim', 'value_dim', 'dropout', 'use_bias', 'output_shape', 'kernel_regularizer', 'bias_regularizer', 'seed']),
    ];
  },
  // Keras 3 only; sliding_window and use_gate (later Keras 3 options) are refused by Strata's layer unless off.
  GroupQueryAttention: (c) => [
    'GroupQueryAttention',
    pick(c, [
      'head_dim',
      'num_query_heads',
      'num_key_value_heads',
      'dropout',
      'use_bias',
      'kernel_regularizer',
      'bias_regularizer',
      'seed',
      'sliding_window',
      'use_gate',
    ]),
  ],
  // The generic RNN and its cells: a cell is a nested {class_name, config}, converted by this table too.
  SimpleRNNCell: (c) => ['SimpleRNNCell', pick(c, CELL)],
  LSTMCell: (c) => ['LSTMCell', pick(c, [...CELL, 'recurrent_activation', 'unit_forget_bias'])],
  GRUCell: (c) => ['GRUCell', { ...pick(c, [...CELL, 'recurrent_activation']), resetAfter: c.reset_after ?? false }],
  StackedRNNCells: (c) => {
    if (!Array.isArray(c.cells)) throw new ValueError(`cells must be a list of cells; received ${fmtValue(c.cells)}`);
    return ['StackedRNNCells', { cells: c.cells.map((cell, i) => nestedCell(cell, `cell ${i}`)) }];
  },
  RNN: (c) => {
    const cell = Array.isArray(c.cell)
      ? { className: 'StackedRNNCells', config: { cells: c.cell.map((x, i) => nestedCell(x, `cell ${i}`)) } }
      : nestedCell(c.cell, 'cell');
    return ['RNN', { ...pick(c, ['return_sequences', 'return_state', 'go_backwards', 'stateful', 'unroll']), cell }];
  },
};

/** A cell inside an RNN or StackedRNNCells config, converted as a layer of its own. */
function nestedCell(v: unknown, what: string): SerializedLayer {
  const o = v as Config | null;
  if (typeof o !== 'object' || o === null || typeof o.class_name !== 'string' || typeof o.config !== 'object' || o.config === null)
    throw new ValueError(`${what} must be {class_name, config}; received ${fmtValue(v)}`);
  if (!['SimpleRNNCell', 'LSTMCell', 'GRUCell', 'StackedRNNCells'].includes(o.class_name))
    throw new ValueError(`${what}: only SimpleRNNCell, LSTMCell, GRUCell and StackedRNNCells import; received ${fmtValue(o.class_name)}`);
  const config = o.config as Config;
  checkCommon(what, config);
  const [className, options] = TABLE[o.class_name](config);
  return { className, config: { ...options, ...(typeof config.name === 'string' ? { name: config.name } : {}) } };
}

/** The Keras layer classes the importer converts. */
export function supportedLayers(): string[] {
  return Object.keys(TABLE).sort();
}

/** Whether the importer converts `className`. */
export const isSupported = (className: string): boolean => Object.hasOwn(TABLE, className);

/** Converts one Keras layer config (already known to be of a supported class); keys its class does not read are dropped. */
export function convertLayer(className: string, name: string, config: Config): ConvertedLayer {
  try {
    checkCommon(name, config);
    const [strataClass, options, weightNames = {}] = TABLE[className](config);
    const spec = { className: strataClass, config: { ...options, name, ...(config.trainable === false ? { trainable: false } : {}) } };
    return { spec, weightNames };
  } catch (e) {
    if (e instanceof ValueError) e.message = `${className} layer '${name}': ${e.message}`;
    throw e;
  }
}
