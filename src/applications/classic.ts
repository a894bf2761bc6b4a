// The small classic convnets keras.applications lacks: LeNet-5 and an AlexNet for small images.

import type { Model } from '../models/model.js';
import { layers } from '../nn/layers/index.js';
import type { SymbolicTensor } from '../nn/symbolic.js';
import {
  type ApplicationArgs,
  conv,
  functionalModel,
  imageInput,
  on,
  poolFeatures,
  predictions,
  type Resolved,
  resolveArgs,
  zeroPad,
} from './common.js';

/** The options of `st.applications.lenet5`: Keras's application options and the activation. */
export interface LeNet5Args extends ApplicationArgs {
  /** The activation of the convolutions and hidden dense layers; default 'tanh' (LeCun's squashing function). */
  activation?: string;
}

/** Flatten and the classifier when includeTop, else the pooling option; `hidden` dense layers between. */
function flattenTop(x: SymbolicTensor, r: Resolved, hidden: [string, number, string][]): SymbolicTensor {
  if (!r.includeTop) return poolFeatures(x, r.pooling);
  x = on(layers.flatten({ name: 'flatten' }), x);
  for (const [name, units, activation] of hidden) x = on(layers.dense({ units, activation, name }), x);
  return predictions(x, r);
}

/**
 * LeNet-5 (LeCun et al. 1998) as it is usually rebuilt: 6 and 16 5x5 convolutions ('valid'),
 * each followed by 2x2 average pooling, then dense layers of 120 (LeCun's C5, a 5x5 convolution
 * over a 5x5 map: a dense layer on the flattened map) and 84 units and the classifier. C3 is
 * connected to all six maps and the output is a softmax rather than LeCun's RBF units, so at
 * 32x32x1 and 10 classes it has 61,706 parameters. Default input 32x32x1, 10 classes; at least
 * 16x16 (the size that leaves S4 one pixel; 28x28 MNIST digits work, with 256 inputs to C5).
 */
export function lenet5(args: LeNet5Args = {}): Model {
  const r = resolveArgs('lenet5', args, { defaultSize: 32, minSize: 16, channels: 1, classes: 10 }, 'lenet5', ['activation']);
  const act = args.activation ?? 'tanh';
  const input = imageInput(r.inputShape);
  let x = conv(input, { filters: 6, kernelSize: 5, activation: act, name: 'c1' });
  x = on(layers.averagePooling2d({ poolSize: 2, name: 's2' }), x);
  x = conv(x, { filters: 16, kernelSize: 5, activation: act, name: 'c3' });
  x = on(layers.averagePooling2d({ poolSize: 2, name: 's4' }), x);
  return functionalModel(
    input,
    flattenTop(x, r, [
      ['c5', 120, act],
      ['f6', 84, act],
    ]),
    r.name,
  );
}

/**
 * AlexNet for small images: the CIFAR version of bearpaw/pytorch-classification
 * (models/cifar/alexnet.py): AlexNet's five convolutions with the widths of Krizhevsky's
 * single-GPU model (64, 192, 384, 256, 256; 11x11 stride 4 first), 2x2 max pooling, and one dense
 * classifier in place of the two 4096-unit layers, which 32x32 images leave nothing to feed.
 * 2,472,266 parameters at 32x32x3 and 10 classes. Default input 32x32x3, 10 classes; at least
 * 29x29 (the first convolution must leave 8 pixels for the three poolings).
 */
export function alexnet(args: ApplicationArgs = {}): Model {
  const r = resolveArgs('alexnet', args, { defaultSize: 32, minSize: 29, classes: 10 }, 'alexnet');
  const input = imageInput(r.inputShape);
  const pool = (x: SymbolicTensor, name: string) => on(layers.maxPooling2d({ poolSize: 2, strides: 2, name }), x);
  // PyTorch's padding 5 on every side: 'same' would pad 3 before and 4 after a 32-pixel image.
  let x = conv(zeroPad(input, 5, 'conv1_pad'), { filters: 64, kernelSize: 11, strides: 4, activation: 'relu', name: 'conv1' });
  x = pool(x, 'pool1');
  x = pool(conv(x, { filters: 192, kernelSize: 5, padding: 'same', activation: 'relu', name: 'conv2' }), 'pool2');
  x = conv(x, { filters: 384, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv3' });
  x = conv(x, { filters: 256, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv4' });
  x = pool(conv(x, { filters: 256, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv5' }), 'pool5');
  return functionalModel(input, flattenTop(x, r, []), r.name);
}
