// ResNet18 and ResNet34 (He et al. 2015, basic blocks of two 3x3 convolutions). keras.applications
// has neither, so these follow torchvision's resnet18/resnet34 layer for layer (no convolution
// biases, stride in the first 3x3 convolution, a 1x1 convolution and BN on downsampling
// shortcuts, torchvision's BN epsilon 1e-5), with Keras's ResNet naming: torchvision's weights
// map onto them one to one, and their trainable counts are torchvision's parameter counts.

import type { Model } from '../models/model.js';
import { layers } from '../nn/layers/index.js';
import type { SymbolicTensor } from '../nn/symbolic.js';
import {
  type ApplicationArgs,
  activation,
  averagePoolTop,
  batchNorm,
  channelsOf,
  conv,
  functionalModel,
  imageInput,
  on,
  resolveArgs,
  zeroPad,
} from './common.js';
import { type ResidualHook, resNetStem } from './resnet.js';

const EPSILON = 1e-5;
const bn = (x: SymbolicTensor, name: string) => batchNorm(x, { epsilon: EPSILON, name });

/**
 * A 3x3 convolution without bias; strided ones pad one pixel on every side first, as PyTorch
 * does ('same' would pad only after an even-sized input, moving every window by a pixel).
 */
function conv3x3(x: SymbolicTensor, filters: number, stride: number, name: string): SymbolicTensor {
  if (stride === 1) return conv(x, { filters, kernelSize: 3, padding: 'same', useBias: false, name: `${name}_conv` });
  return conv(zeroPad(x, 1, `${name}_pad`), { filters, kernelSize: 3, strides: stride, useBias: false, name: `${name}_conv` });
}

/** torchvision's BasicBlock: 3x3 (strided), BN, ReLU, 3x3, BN, plus the shortcut, then ReLU. */
export function basicBlock(x: SymbolicTensor, filters: number, stride: number, name: string, hook?: ResidualHook): SymbolicTensor {
  let shortcut = x;
  if (stride !== 1 || channelsOf(x) !== filters) {
    shortcut = bn(conv(x, { filters, kernelSize: 1, strides: stride, useBias: false, name: `${name}_0_conv` }), `${name}_0_bn`);
  }
  let y = activation(bn(conv3x3(x, filters, stride, `${name}_1`), `${name}_1_bn`), 'relu', `${name}_1_relu`);
  y = bn(conv3x3(y, filters, 1, `${name}_2`), `${name}_2_bn`);
  if (hook) y = hook(y, name);
  return activation(on(layers.add({ name: `${name}_add` }), [shortcut, y]), 'relu', `${name}_out`);
}

function basicResNet(app: string, blocks: number[], args: ApplicationArgs, defaultName: string): Model {
  const r = resolveArgs(app, args, { defaultSize: 224, minSize: 32 }, defaultName);
  const input = imageInput(r.inputShape);
  let x = resNetStem(input, { useBias: false, preact: false, epsilon: EPSILON });
  blocks.forEach((n, stage) => {
    const filters = 64 << stage;
    for (let i = 1; i <= n; i++) x = basicBlock(x, filters, i === 1 && stage > 0 ? 2 : 1, `conv${stage + 2}_block${i}`);
  });
  return functionalModel(input, averagePoolTop(x, r, { avg: 'avg_pool', max: 'max_pool' }), r.name);
}

/** ResNet18: basic blocks 2, 2, 2, 2 (torchvision's 11,689,512 trainable parameters at 1000 classes, plus 9,600 BN statistics). */
export const resNet18 = (args: ApplicationArgs = {}): Model => basicResNet('resNet18', [2, 2, 2, 2], args, 'resnet18');
/** ResNet34: basic blocks 3, 4, 6, 3 (torchvision's 21,797,672 trainable parameters at 1000 classes, plus 17,024 BN statistics). */
export const resNet34 = (args: ApplicationArgs = {}): Model => basicResNet('resNet34', [3, 4, 6, 3], args, 'resnet34');
