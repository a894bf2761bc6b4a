// DenseNet121 (Huang et al. 2017) as keras.applications builds it, with Keras 3's layer names
// (`conv1_conv`, `conv2_block1_0_bn`, ...: tf.keras wrote `conv1/conv`, and '/' cannot be in a
// layer name here, where it separates a weight's path).

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
import { RESNET_EPSILON } from './resnet.js';

const GROWTH_RATE = 32;
const bnRelu = (x: SymbolicTensor, name: string) => activation(batchNorm(x, { epsilon: RESNET_EPSILON, name: `${name}_bn` }), 'relu', `${name}_relu`);

/** BN-ReLU-1x1 (4 * growth) and BN-ReLU-3x3 (growth), its output concatenated to the input. */
function convBlock(x: SymbolicTensor, name: string): SymbolicTensor {
  let y = bnRelu(x, `${name}_0`);
  y = bnRelu(conv(y, { filters: 4 * GROWTH_RATE, kernelSize: 1, useBias: false, name: `${name}_1_conv` }), `${name}_1`);
  y = conv(y, { filters: GROWTH_RATE, kernelSize: 3, padding: 'same', useBias: false, name: `${name}_2_conv` });
  return on(layers.concatenate({ axis: 3, name: `${name}_concat` }), [x, y]);
}

/** BN-ReLU, a 1x1 convolution halving the channels, 2x2 average pooling. */
function transition(x: SymbolicTensor, name: string): SymbolicTensor {
  const y = bnRelu(x, name);
  const halved = conv(y, { filters: Math.floor(channelsOf(y) * 0.5), kernelSize: 1, useBias: false, name: `${name}_conv` });
  return on(layers.averagePooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }), halved);
}

function denseNet(app: string, blocks: number[], args: ApplicationArgs, defaultName: string): Model {
  const r = resolveArgs(app, args, { defaultSize: 224, minSize: 32 }, defaultName);
  const input = imageInput(r.inputShape);
  // Keras leaves both padding layers unnamed.
  let x = zeroPad(input, 3);
  x = bnRelu(conv(x, { filters: 64, kernelSize: 7, strides: 2, useBias: false, name: 'conv1_conv' }), 'conv1');
  x = on(layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1' }), zeroPad(x, 1));
  blocks.forEach((n, i) => {
    for (let b = 1; b <= n; b++) x = convBlock(x, `conv${i + 2}_block${b}`);
    if (i < blocks.length - 1) x = transition(x, `pool${i + 2}`);
  });
  x = activation(batchNorm(x, { epsilon: RESNET_EPSILON, name: 'bn' }), 'relu', 'relu');
  return functionalModel(input, averagePoolTop(x, r, { avg: 'avg_pool', max: 'max_pool' }), r.name);
}

/** DenseNet121: dense blocks of 6, 12, 24 and 16 layers (8,062,504 parameters at 224x224x3, 1000 classes). */
export const denseNet121 = (args: ApplicationArgs = {}): Model => denseNet('denseNet121', [6, 12, 24, 16], args, 'densenet121');
