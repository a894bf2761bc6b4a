import * as st from '../index.js';

type BuildModel = (inputShape: number[], classes: number) => st.Model;

/** The book's two models, for images (or rows) of `inputShape` and `classes` classes. */
const BOOK_MODELS = {
  /** Deep Learning with Python, ch. 8: conv 32-64-128, max pooling, softmax (104,202 parameters on MNIST). */
  convnet: (inputShape: number[], classes: number): st.Model =>
    st.sequential({
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
  mlp: (inputShape: number[], classes: number): st.Model =>
    st.sequential({
      name: 'mlp',
      layers: [
        st.layers.flatten({ inputShape }),
        st.layers.dense({ units: 512, activation: 'relu' }),
        st.layers.dense({ units: classes, activation: 'softmax' }),
      ],
    }),
};

/**
 * st.applications' classifiers by name (`--model resNet18`), built for the data's image size
 * and classes (their minimum sizes are their own errors); seBlock is a block, not a model.
 */
const APPLICATIONS: Record<string, BuildModel> = Object.fromEntries(
  Object.entries(st.applications)
    .filter(([name]) => name !== 'seBlock')
    .map(([name, build]) => [
      name,
      (inputShape: number[], classes: number) => (build as (args: { inputShape: number[]; classes: number }) => st.Model)({ inputShape, classes }),
    ]),
);

/** The models `strata train --model` knows by name. */
export const BUILTIN_MODELS: Record<string, BuildModel> = { ...BOOK_MODELS, ...APPLICATIONS };

export type BuiltinModel = string;
