// ResNet50 (He et al. 2015) and ResNet50V2 (He et al. 2016, pre-activation) as keras.applications
// builds them: Keras's convolutions keep their biases and ResNet50 strides in the first 1x1
// convolution of a block (the original Caffe model), which is why its count (25,636,712) is not
// torchvision's (25,557,032).

import type { Model } from '../models/model.js';
import { layers } from '../nn/layers/index.js';
import type { SymbolicTensor } from '../nn/symbolic.js';
import {
  type ApplicationArgs,
  activation,
  averagePoolTop,
  batchNorm,
  conv,
  functionalModel,
  imageInput,
  on,
  resolveArgs,
  zeroPad,
} from './common.js';

/** Keras's ResNet epsilon: cuDNN once refused anything not above 1e-5. */
export const RESNET_EPSILON = 1.001e-5;
const bn = (x: SymbolicTensor, name: string) => batchNorm(x, { epsilon: RESNET_EPSILON, name });

/** One stage: output filters / 4 (the bottleneck width), blocks, the stride of its downsampling block, name. */
export type Stage = [filters: number, blocks: number, stride: number, name: string];
export const RESNET50_V1: Stage[] = [
  [64, 3, 1, 'conv2'],
  [128, 4, 2, 'conv3'],
  [256, 6, 2, 'conv4'],
  [512, 3, 2, 'conv5'],
];
// V2 downsamples in the last block of a stage, so the stride belongs to the stage before.
const RESNET50_V2: Stage[] = [
  [64, 3, 2, 'conv2'],
  [128, 4, 2, 'conv3'],
  [256, 6, 2, 'conv4'],
  [512, 3, 1, 'conv5'],
];

/** The 7x7 stride-2 convolution and 3x3 stride-2 max pooling every ResNet starts with. */
export function resNetStem(x: SymbolicTensor, options: { useBias: boolean; preact: boolean; epsilon?: number }): SymbolicTensor {
  x = zeroPad(x, 3, 'conv1_pad');
  x = conv(x, { filters: 64, kernelSize: 7, strides: 2, useBias: options.useBias, name: 'conv1_conv' });
  if (!options.preact) {
    x = batchNorm(x, { epsilon: options.epsilon ?? RESNET_EPSILON, name: 'conv1_bn' });
    x = activation(x, 'relu', 'conv1_relu');
  }
  x = zeroPad(x, 1, 'pool1_pad');
  return on(layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x);
}

/** What a variant may insert on the residual branch before the addition (a squeeze-and-excitation). */
export type ResidualHook = (residual: SymbolicTensor, blockName: string) => SymbolicTensor;

/** Keras's residual_block_v1: 1x1 (strided), 3x3, 1x1 to 4 * filters, plus the shortcut, then ReLU. */
function blockV1(x: SymbolicTensor, filters: number, stride: number, convShortcut: boolean, name: string, hook?: ResidualHook): SymbolicTensor {
  const shortcut = convShortcut ? bn(conv(x, { filters: 4 * filters, kernelSize: 1, strides: stride, name: `${name}_0_conv` }), `${name}_0_bn`) : x;
  let y = activation(bn(conv(x, { filters, kernelSize: 1, strides: stride, name: `${name}_1_conv` }), `${name}_1_bn`), 'relu', `${name}_1_relu`);
  y = activation(bn(conv(y, { filters, kernelSize: 3, padding: 'same', name: `${name}_2_conv` }), `${name}_2_bn`), 'relu', `${name}_2_relu`);
  y = bn(conv(y, { filters: 4 * filters, kernelSize: 1, name: `${name}_3_conv` }), `${name}_3_bn`);
  if (hook) y = hook(y, name);
  return activation(on(layers.add({ name: `${name}_add` }), [shortcut, y]), 'relu', `${name}_out`);
}

/** Keras's residual_block_v2: BN-ReLU first; downsampling in the 3x3 convolution, the shortcut a 1x1 max pooling. */
function blockV2(x: SymbolicTensor, filters: number, stride: number, convShortcut: boolean, name: string): SymbolicTensor {
  const preact = activation(bn(x, `${name}_preact_bn`), 'relu', `${name}_preact_relu`);
  let shortcut = x;
  if (convShortcut) shortcut = conv(preact, { filters: 4 * filters, kernelSize: 1, strides: stride, name: `${name}_0_conv` });
  else if (stride > 1) shortcut = on(layers.maxPooling2d({ poolSize: 1, strides: stride }), x);
  let y = conv(preact, { filters, kernelSize: 1, useBias: false, name: `${name}_1_conv` });
  y = activation(bn(y, `${name}_1_bn`), 'relu', `${name}_1_relu`);
  y = zeroPad(y, 1, `${name}_2_pad`);
  y = conv(y, { filters, kernelSize: 3, strides: stride, useBias: false, name: `${name}_2_conv` });
  y = activation(bn(y, `${name}_2_bn`), 'relu', `${name}_2_relu`);
  y = conv(y, { filters: 4 * filters, kernelSize: 1, name: `${name}_3_conv` });
  return on(layers.add({ name: `${name}_out` }), [shortcut, y]);
}

/** A Keras ResNet v1 with bottleneck blocks; `hook` edits every residual branch (see seResNet50). */
export function resNetV1(
  app: string,
  stages: Stage[],
  args: ApplicationArgs,
  defaultName: string,
  hook?: ResidualHook,
  ownKeys: readonly string[] = [],
): Model {
  const r = resolveArgs(app, args, { defaultSize: 224, minSize: 32 }, defaultName, ownKeys);
  const input = imageInput(r.inputShape);
  let x = resNetStem(input, { useBias: true, preact: false });
  for (const [filters, blocks, stride, name] of stages) {
    x = blockV1(x, filters, stride, true, `${name}_block1`, hook);
    for (let i = 2; i <= blocks; i++) x = blockV1(x, filters, 1, false, `${name}_block${i}`, hook);
  }
  return functionalModel(input, averagePoolTop(x, r, { avg: 'avg_pool', max: 'max_pool' }), r.name);
}

/** ResNet50: Keras's bottleneck ResNet with 3, 4, 6 and 3 blocks (25,636,712 parameters at 224x224x3, 1000 classes). */
export const resNet50 = (args: ApplicationArgs = {}): Model => resNetV1('resNet50', RESNET50_V1, args, 'resnet50');

/** ResNet50V2: pre-activation blocks, a final BN-ReLU (25,613,800 parameters at 224x224x3, 1000 classes). */
export function resNet50V2(args: ApplicationArgs = {}): Model {
  const r = resolveArgs('resNet50V2', args, { defaultSize: 224, minSize: 32 }, 'resnet50v2');
  const input = imageInput(r.inputShape);
  let x = resNetStem(input, { useBias: true, preact: true });
  for (const [filters, blocks, stride, name] of RESNET50_V2) {
    x = blockV2(x, filters, 1, true, `${name}_block1`);
    for (let i = 2; i < blocks; i++) x = blockV2(x, filters, 1, false, `${name}_block${i}`);
    x = blockV2(x, filters, stride, false, `${name}_block${blocks}`);
  }
  x = activation(bn(x, 'post_bn'), 'relu', 'post_relu');
  return functionalModel(input, averagePoolTop(x, r, { avg: 'avg_pool', max: 'max_pool' }), r.name);
}
