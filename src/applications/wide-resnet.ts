// Wide residual networks (Zagoruyko & Komodakis 2016): WRN-depth-k, the paper's CIFAR family.
import { fmtValue, ValueError } from '../core/errors.js';
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

/** The options of `st.applications.wideResNet`: Keras's application options, depth, width and dropout. */
export interface WideResNetArgs extends ApplicationArgs {
  /** The number of layers with weights, 6n + 4 (n blocks per group); default 28. */
  depth?: number;
  /** The width multiplier k of the three groups' 16, 32 and 64 filters; default 10. */
  widthFactor?: number;
  /** Dropout between a block's two convolutions (the paper used 0.3); default 0. */
  dropout?: number;
}

// The paper's reference code pads 1 and uses no convolution biases; BN epsilon is PyTorch's.
const EPSILON = 1e-5;
const bnRelu = (x: SymbolicTensor, name: string) => activation(batchNorm(x, { epsilon: EPSILON, name: `${name}_bn` }), 'relu', `${name}_relu`);

function conv3x3(x: SymbolicTensor, filters: number, stride: number, name: string): SymbolicTensor {
  if (stride === 1) return conv(x, { filters, kernelSize: 3, padding: 'same', useBias: false, name: `${name}_conv` });
  return conv(zeroPad(x, 1, `${name}_pad`), { filters, kernelSize: 3, strides: stride, useBias: false, name: `${name}_conv` });
}

/**
 * The paper's B(3,3) block with pre-activation: BN-ReLU, 3x3 (strided), BN-ReLU, dropout, 3x3;
 * where the width or size changes, the shortcut is a 1x1 convolution of the activated input.
 */
function wideBlock(x: SymbolicTensor, filters: number, stride: number, dropout: number, name: string): SymbolicTensor {
  const preact = bnRelu(x, `${name}_preact`);
  const projected = stride !== 1 || channelsOf(x) !== filters;
  const shortcut = projected ? conv(preact, { filters, kernelSize: 1, strides: stride, useBias: false, name: `${name}_0_conv` }) : x;
  let y = bnRelu(conv3x3(preact, filters, stride, `${name}_1`), `${name}_1`);
  if (dropout > 0) y = on(layers.dropout({ rate: dropout, name: `${name}_dropout` }), y);
  y = conv3x3(y, filters, 1, `${name}_2`);
  return on(layers.add({ name: `${name}_out` }), [shortcut, y]);
}

/**
 * WRN-depth-k for small images (CIFAR): a 3x3 convolution of 16 filters, three groups of
 * (depth - 4) / 6 wide blocks with 16k, 32k and 64k filters (strides 1, 2, 2), BN-ReLU, global
 * average pooling and the classifier. WRN-28-10 at 10 classes has 36,479,194 trainable
 * parameters, as the paper's code (36.5M). Default input 32x32x3, 10 classes.
 */
export function wideResNet(args: WideResNetArgs = {}): Model {
  const depth = args.depth ?? 28,
    k = args.widthFactor ?? 10,
    dropout = args.dropout ?? 0;
  if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0)
    throw new ValueError(`wideResNet: depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, 40, ...); received ${fmtValue(args.depth)}`);
  if (!Number.isInteger(k) || k < 1)
    throw new ValueError(`wideResNet: widthFactor must be a positive integer; received ${fmtValue(args.widthFactor)}`);
  // Two stride-2 stages: any size works, the smallest leaves a 1x1 map.
  const r = resolveArgs('wideResNet', args, { defaultSize: 32, minSize: 1, classes: 10 }, `wide_resnet${depth}_${k}`, [
    'depth',
    'widthFactor',
    'dropout',
  ]);
  const input = imageInput(r.inputShape);
  let x = conv(input, { filters: 16, kernelSize: 3, padding: 'same', useBias: false, name: 'conv1_conv' });
  const n = (depth - 4) / 6;
  [16 * k, 32 * k, 64 * k].forEach((filters, g) => {
    for (let i = 1; i <= n; i++) x = wideBlock(x, filters, i === 1 && g > 0 ? 2 : 1, dropout, `conv${g + 2}_block${i}`);
  });
  x = bnRelu(x, 'post');
  return functionalModel(input, averagePoolTop(x, r, { avg: 'avg_pool', max: 'max_pool' }), r.name);
}
