// What every st.applications builder shares: its options (keras.applications' arguments), the
// input shape rules of Keras's obtain_input_shape, the classifier head and small layer helpers.
import { fmtValue, ValueError } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { Model } from '../models/model.js';
import { type ActivationIdentifier, getActivation } from '../nn/activations.js';
import type { Layer } from '../nn/layer.js';
import type { Conv2dArgs } from '../nn/layers/conv.js';
import { layers } from '../nn/layers/index.js';
import type { BatchNormalizationArgs } from '../nn/layers/normalization.js';
import { formatShape, type SymbolicTensor } from '../nn/symbolic.js';

/**
 * The options of every `st.applications` model: keras.applications' arguments in camelCase, but
 * for `weights` and `input_tensor` (no pretrained weights are bundled; the input is always new).
 */
export interface ApplicationArgs {
  /**
   * One image's [height, width, channels]. Default: the model's standard size (224x224x3 for most)
   * with the classifier, [null, null, 3] without it (any size at least the model's minimum).
   */
  inputShape?: readonly (number | null)[];
  /** Whether to end with the classifier (the model's dense "top"); default true. */
  includeTop?: boolean;
  /**
   * Without the top: 'avg' or 'max' pools the last feature map to one vector per image; absent or
   * null keeps the 4-D feature map. Ignored with the top, as in Keras.
   */
  pooling?: 'avg' | 'max' | null;
  /** The number of classes of the classifier; default 1000 (10 for the small-image models). */
  classes?: number;
  /** The classifier's activation; default 'softmax' (null or 'linear' for logits). */
  classifierActivation?: string | null;
  /** The model's name; default Keras's (`vgg16`, `resnet50`, ...). */
  name?: string;
}

export const APPLICATION_KEYS = ['inputShape', 'includeTop', 'pooling', 'classes', 'classifierActivation', 'name'] as const;

/** How a model checks its input shape (keras.applications' obtain_input_shape without weights). */
export interface InputRules {
  /** The side of the standard square input, used when inputShape is absent and includeTop is set. */
  defaultSize: number;
  /** The smallest height and width accepted: Keras's limit where Keras has the model, else what the downsampling allows. */
  minSize: number;
  /** The channels of the default input; default 3. */
  channels?: number;
  /** The default number of classes; default 1000. */
  classes?: number;
}

/** Options after validation, with Keras's defaults filled in. */
export interface Resolved {
  inputShape: (number | null)[];
  includeTop: boolean;
  pooling: 'avg' | 'max' | null;
  classes: number;
  classifierActivation: string;
  name: string;
}

/** Validates an application's options (its own extra keys too) and fills in the defaults. */
export function resolveArgs(app: string, args: ApplicationArgs, rules: InputRules, defaultName: string, ownKeys: readonly string[] = []): Resolved {
  checkKeys(app, args as Record<string, unknown>, [...APPLICATION_KEYS, ...ownKeys]);
  const includeTop = args.includeTop ?? true;
  if (typeof includeTop !== 'boolean') throw new ValueError(`${app}: includeTop must be true or false; received ${fmtValue(args.includeTop)}`);
  const pooling = args.pooling ?? null;
  if (pooling !== null && pooling !== 'avg' && pooling !== 'max') {
    throw new ValueError(`${app}: pooling must be 'avg', 'max' or null; received ${fmtValue(args.pooling)}`);
  }
  const classes = args.classes ?? rules.classes ?? 1000;
  if (!Number.isInteger(classes) || classes < 1)
    throw new ValueError(`${app}: classes must be a positive integer; received ${fmtValue(args.classes)}`);
  const activation = args.classifierActivation === null ? 'linear' : (args.classifierActivation ?? 'softmax');
  // Names only: a function could not be written to model.json.
  if (typeof activation !== 'string')
    throw new ValueError(`${app}: classifierActivation must be an activation's name or null; received ${fmtValue(activation)}`);
  getActivation(activation);
  return {
    inputShape: inputShape(app, args.inputShape, includeTop, rules),
    includeTop,
    pooling,
    classes,
    classifierActivation: activation,
    name: args.name ?? defaultName,
  };
}

function inputShape(app: string, given: ApplicationArgs['inputShape'], includeTop: boolean, rules: InputRules): (number | null)[] {
  const channels = rules.channels ?? 3;
  if (given === undefined || given === null) {
    return includeTop ? [rules.defaultSize, rules.defaultSize, channels] : [null, null, channels];
  }
  const received = () => `received inputShape ${Array.isArray(given) ? formatShape(given) : fmtValue(given)}`;
  if (!Array.isArray(given) || given.length !== 3 || !given.every((d) => d === null || (Number.isInteger(d) && d > 0))) {
    throw new ValueError(
      `${app}: inputShape must be [height, width, channels] of positive integers (null for a size known only at run time); ${received()}`,
    );
  }
  const [h, w, c] = given as (number | null)[];
  if (c === null) throw new ValueError(`${app}: the number of channels must be known; ${received()}`);
  if ((h !== null && h < rules.minSize) || (w !== null && w < rules.minSize)) {
    throw new ValueError(`${app}: input size must be at least ${rules.minSize}x${rules.minSize}; ${received()}`);
  }
  if (includeTop && (h === null || w === null)) {
    throw new ValueError(`${app}: with includeTop the input size must be known (the classifier's weights depend on it); ${received()}`);
  }
  return [h, w, c];
}

/** The image input, named as Keras names a model's input. */
export const imageInput = (shape: (number | null)[]): SymbolicTensor => layers.input({ shape, name: 'input_layer' });

/**
 * What ends a model without its top: global average or max pooling, or nothing. Keras names these
 * layers in some models (`avg_pool`, `max_pool`) and lets others take automatic names.
 */
export function poolFeatures(x: SymbolicTensor, pooling: 'avg' | 'max' | null, names: { avg?: string; max?: string } = {}): SymbolicTensor {
  if (pooling === 'avg') return layers.globalAveragePooling2d({ name: names.avg }).apply(x);
  if (pooling === 'max') return layers.globalMaxPooling2d({ name: names.max }).apply(x);
  return x;
}

/** The dense classifier named `predictions`, as every keras.applications model ends. */
export const predictions = (x: SymbolicTensor, r: Resolved): SymbolicTensor =>
  layers.dense({ units: r.classes, activation: r.classifierActivation, name: 'predictions' }).apply(x);

/**
 * The usual top: global average pooling (`topPool`, Keras's `avg_pool`; null for an automatic
 * name, as some models have) and the classifier; without the top, the pooling option (`poolNames`).
 */
export function averagePoolTop(
  x: SymbolicTensor,
  r: Resolved,
  poolNames: { avg?: string; max?: string },
  topPool: string | null = 'avg_pool',
): SymbolicTensor {
  if (!r.includeTop) return poolFeatures(x, r.pooling, poolNames);
  return predictions(layers.globalAveragePooling2d({ name: topPool ?? undefined }).apply(x), r);
}

export const functionalModel = (input: SymbolicTensor, output: SymbolicTensor, name: string): Model =>
  new Model({ inputs: input, outputs: output, name });

/** Applies a layer to a symbolic tensor (the functional API's `layer(x)`). */
export const on = (layer: Layer, x: SymbolicTensor | SymbolicTensor[]): SymbolicTensor => layer.apply(x as SymbolicTensor);

export const conv = (x: SymbolicTensor, args: Conv2dArgs): SymbolicTensor => on(layers.conv2d(args), x);
export const batchNorm = (x: SymbolicTensor, args: BatchNormalizationArgs): SymbolicTensor => on(layers.batchNormalization(args), x);
export const activation = (x: SymbolicTensor, act: ActivationIdentifier, name?: string): SymbolicTensor =>
  on(layers.activation({ activation: act, name }), x);
export const zeroPad = (x: SymbolicTensor, padding: number | [[number, number], [number, number]], name?: string): SymbolicTensor =>
  on(layers.zeroPadding2d({ padding, name }), x);
export const relu6 = (x: SymbolicTensor, name: string): SymbolicTensor => on(layers.reLU({ maxValue: 6, name }), x);

/** The number of channels of a symbolic NHWC tensor (known once a layer has built). */
export const channelsOf = (x: SymbolicTensor): number => x.shape[3] as number;
