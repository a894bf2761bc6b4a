// MobileNet (Howard et al. 2017) and MobileNetV2 (Sandler et al. 2018) as keras.applications
// builds them: depthwise separable convolutions with BN and ReLU6 (the ReLU layer with
// maxValue 6), width multiplier alpha. Strided depthwise convolutions pad explicitly and run
// 'valid', as Keras does, so the windows sit where the pretrained models expect them.
import { fmtValue, ValueError } from '../core/errors.js';
import type { Model } from '../models/model.js';
import { layers } from '../nn/layers/index.js';
import type { SymbolicTensor } from '../nn/symbolic.js';
import {
  type ApplicationArgs,
  averagePoolTop,
  batchNorm,
  channelsOf,
  conv,
  functionalModel,
  imageInput,
  on,
  poolFeatures,
  type Resolved,
  relu6,
  resolveArgs,
  zeroPad,
} from './common.js';

/** The options of `st.applications.mobileNetV2`: Keras's application options and the width multiplier. */
export interface MobileNetArgs extends ApplicationArgs {
  /** The width multiplier: every layer has alpha times its filters; default 1. */
  alpha?: number;
}

/** The options of `st.applications.mobileNet`: those of MobileNetV2, the depth multiplier and dropout. */
export interface MobileNetV1Args extends MobileNetArgs {
  /** Channels per input channel of each depthwise convolution; default 1. */
  depthMultiplier?: number;
  /** The dropout rate before the classifier; default 0.001. */
  dropout?: number;
}

function positive(app: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
    throw new ValueError(`${app}: ${name} must be a positive number; received ${fmtValue(v)}`);
  return v;
}

/** Keras's model names carry alpha and the input rows: `mobilenet_1.00_224`. */
const sizedName = (prefix: string, alpha: number, r: Resolved) => `${prefix}_${alpha.toFixed(2)}_${r.inputShape[0] ?? 'None'}`;

/** Keras's _depthwise_conv_block: 3x3 depthwise, BN, ReLU6, then 1x1 to `filters`, BN, ReLU6. */
function depthwiseBlock(x: SymbolicTensor, filters: number, depthMultiplier: number, stride: number, id: number): SymbolicTensor {
  if (stride !== 1)
    x = zeroPad(
      x,
      [
        [0, 1],
        [0, 1],
      ],
      `conv_pad_${id}`,
    );
  x = on(
    layers.depthwiseConv2d({
      kernelSize: 3,
      padding: stride === 1 ? 'same' : 'valid',
      depthMultiplier,
      strides: stride,
      useBias: false,
      name: `conv_dw_${id}`,
    }),
    x,
  );
  x = relu6(batchNorm(x, { name: `conv_dw_${id}_bn` }), `conv_dw_${id}_relu`);
  x = conv(x, { filters, kernelSize: 1, padding: 'same', useBias: false, name: `conv_pw_${id}` });
  return relu6(batchNorm(x, { name: `conv_pw_${id}_bn` }), `conv_pw_${id}_relu`);
}

/** Pointwise filters and strides of MobileNet's 13 depthwise separable blocks. */
const V1_BLOCKS: [number, number][] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

/**
 * MobileNet (v1): 4,253,864 parameters at 224x224x3, 1000 classes and alpha 1. The classifier is
 * a 1x1 convolution (`conv_preds`) on the pooled features, as in Keras.
 */
export function mobileNet(args: MobileNetV1Args = {}): Model {
  const r = resolveArgs('mobileNet', args, { defaultSize: 224, minSize: 32 }, '', ['alpha', 'depthMultiplier', 'dropout']);
  const alpha = positive('mobileNet', 'alpha', args.alpha ?? 1);
  const depthMultiplier = args.depthMultiplier ?? 1;
  const dropout = args.dropout ?? 1e-3;
  const input = imageInput(r.inputShape);
  let x = conv(input, { filters: Math.trunc(32 * alpha), kernelSize: 3, padding: 'same', useBias: false, strides: 2, name: 'conv1' });
  x = relu6(batchNorm(x, { name: 'conv1_bn' }), 'conv1_relu');
  V1_BLOCKS.forEach(([filters, stride], i) => (x = depthwiseBlock(x, Math.trunc(filters * alpha), depthMultiplier, stride, i + 1)));
  if (r.includeTop) {
    x = on(layers.globalAveragePooling2d({ keepdims: true }), x);
    x = on(layers.dropout({ rate: dropout, name: 'dropout' }), x);
    x = conv(x, { filters: r.classes, kernelSize: 1, padding: 'same', name: 'conv_preds' });
    x = on(layers.reshape({ targetShape: [r.classes], name: 'reshape_2' }), x);
    x = on(layers.activation({ activation: r.classifierActivation, name: 'predictions' }), x);
  } else {
    x = poolFeatures(x, r.pooling);
  }
  return functionalModel(input, x, args.name ?? sizedName('mobilenet', alpha, r));
}

/** Keras's _make_divisible: the nearest multiple of 8, never more than 10 % below v. */
function makeDivisible(v: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

const bnV2 = (x: SymbolicTensor, name: string) => batchNorm(x, { epsilon: 1e-3, momentum: 0.999, name });

/** Keras's _inverted_res_block: 1x1 expansion, 3x3 depthwise, linear 1x1 projection, residual when shapes allow. */
function invertedResidual(inputs: SymbolicTensor, expansion: number, stride: number, alpha: number, filters: number, id: number): SymbolicTensor {
  const inChannels = channelsOf(inputs);
  const pointwise = makeDivisible(Math.trunc(filters * alpha));
  let prefix = `block_${id}_`;
  let x = inputs;
  if (id) {
    x = conv(x, { filters: expansion * inChannels, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}expand` });
    x = relu6(bnV2(x, `${prefix}expand_BN`), `${prefix}expand_relu`);
  } else {
    prefix = 'expanded_conv_';
  }
  if (stride === 2) {
    // Keras's correct_pad: one more pixel before the image when its size is odd.
    const pad = (n: number | null): [number, number] => (n !== null && n % 2 === 1 ? [1, 1] : [0, 1]);
    x = zeroPad(x, [pad(x.shape[1]), pad(x.shape[2])], `${prefix}pad`);
  }
  x = on(
    layers.depthwiseConv2d({ kernelSize: 3, strides: stride, useBias: false, padding: stride === 1 ? 'same' : 'valid', name: `${prefix}depthwise` }),
    x,
  );
  x = relu6(bnV2(x, `${prefix}depthwise_BN`), `${prefix}depthwise_relu`);
  x = conv(x, { filters: pointwise, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project` });
  x = bnV2(x, `${prefix}project_BN`);
  if (inChannels === pointwise && stride === 1) return on(layers.add({ name: `${prefix}add` }), [inputs, x]);
  return x;
}

/** [filters, stride, expansion] of MobileNetV2's 17 inverted residual blocks. */
const V2_BLOCKS: [number, number, number][] = [
  [16, 1, 1],
  [24, 2, 6],
  [24, 1, 6],
  [32, 2, 6],
  [32, 1, 6],
  [32, 1, 6],
  [64, 2, 6],
  [64, 1, 6],
  [64, 1, 6],
  [64, 1, 6],
  [96, 1, 6],
  [96, 1, 6],
  [96, 1, 6],
  [160, 2, 6],
  [160, 1, 6],
  [160, 1, 6],
  [320, 1, 6],
];

/** MobileNetV2: 3,538,984 parameters at 224x224x3, 1000 classes and alpha 1 (3,504,872 trainable). */
export function mobileNetV2(args: MobileNetArgs = {}): Model {
  const r = resolveArgs('mobileNetV2', args, { defaultSize: 224, minSize: 32 }, '', ['alpha']);
  const alpha = positive('mobileNetV2', 'alpha', args.alpha ?? 1);
  const input = imageInput(r.inputShape);
  let x = conv(input, { filters: makeDivisible(32 * alpha), kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'Conv1' });
  x = relu6(bnV2(x, 'bn_Conv1'), 'Conv1_relu');
  V2_BLOCKS.forEach(([filters, stride, expansion], id) => (x = invertedResidual(x, expansion, stride, alpha, filters, id)));
  // Only widening multipliers widen the last layer; narrower models keep its 1280 features.
  x = conv(x, { filters: alpha > 1 ? makeDivisible(1280 * alpha) : 1280, kernelSize: 1, useBias: false, name: 'Conv_1' });
  x = relu6(bnV2(x, 'Conv_1_bn'), 'out_relu');
  return functionalModel(input, averagePoolTop(x, r, {}, null), args.name ?? sizedName('mobilenetv2', alpha, r));
}
