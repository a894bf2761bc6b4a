// VGG16 and VGG19 (Simonyan & Zisserman 2014) as keras.applications builds them.

import type { Model } from '../models/model.js';
import { layers } from '../nn/layers/index.js';
import { type ApplicationArgs, conv, functionalModel, imageInput, on, poolFeatures, predictions, resolveArgs } from './common.js';

/** Convolutions per block; the blocks have 64, 128, 256, 512 and 512 filters. */
const BLOCKS = { vgg16: [2, 2, 3, 3, 3], vgg19: [2, 2, 4, 4, 4] };
const FILTERS = [64, 128, 256, 512, 512];

function vgg(app: string, kind: keyof typeof BLOCKS, args: ApplicationArgs): Model {
  const r = resolveArgs(app, args, { defaultSize: 224, minSize: 32 }, kind);
  const input = imageInput(r.inputShape);
  let x = input;
  BLOCKS[kind].forEach((convs, b) => {
    for (let i = 1; i <= convs; i++) {
      x = conv(x, { filters: FILTERS[b], kernelSize: 3, activation: 'relu', padding: 'same', name: `block${b + 1}_conv${i}` });
    }
    x = on(layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` }), x);
  });
  if (r.includeTop) {
    x = on(layers.flatten({ name: 'flatten' }), x);
    x = on(layers.dense({ units: 4096, activation: 'relu', name: 'fc1' }), x);
    x = on(layers.dense({ units: 4096, activation: 'relu', name: 'fc2' }), x);
    x = predictions(x, r);
  } else {
    x = poolFeatures(x, r.pooling);
  }
  return functionalModel(input, x, r.name);
}

/** VGG16: 13 3x3 convolutions in 5 blocks and three dense layers (138,357,544 parameters at 224x224x3, 1000 classes). */
export const vgg16 = (args: ApplicationArgs = {}): Model => vgg('vgg16', 'vgg16', args);
/** VGG19: 16 3x3 convolutions in 5 blocks and three dense layers (143,667,240 parameters at 224x224x3, 1000 classes). */
export const vgg19 = (args: ApplicationArgs = {}): Model => vgg('vgg19', 'vgg19', args);
