import * as st from '../index.js';

/** The models `strata train --model` knows by name, for images of `inputShape` and `classes` classes. */
export const BUILTIN_MODELS = {
  /** Deep Learning with Python, ch. 8: conv 32-64-128, max pooling, softmax (104,202 parameters on MNIST). */
  convnet: (inputShape: number[], classes: number): st.Model => st.sequential({
    name: 'convnet',
    layers: [
      st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape }),
      st.layers.maxPooling2d({ poolSize: 2 }),
      st.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      st.layers.maxPooling2d({ poolSize: 2 }),
      st.layers.conv2d({ filters: 128, kernelSize: 3, activation: 'relu' }),
      st.layers.flatten(),
      st.layers.dense({ units: classes, activation: 'softmax' }),
    ],
  }),
  /** Deep Learning with Python, ch. 2: one hidden layer of 512 ReLU units. */
  mlp: (inputShape: number[], classes: number): st.Model => st.sequential({
    name: 'mlp',
    layers: [
      st.layers.flatten({ inputShape }),
      st.layers.dense({ units: 512, activation: 'relu' }),
      st.layers.dense({ units: classes, activation: 'softmax' }),
    ],
  }),
};

export type BuiltinModel = keyof typeof BUILTIN_MODELS;
