// Recently added layer classes (3-D convolutions and pooling, ConvLSTM2D, the generic RNN with
// built-in cells) in models built and saved by tfjs 4.22 itself with random weights, imported
// with st.tfjs.load and compared with tfjs's own predictions: checks the importer's class
// mappings, option names and weight layouts. tfjs's default recurrent activation is Keras 2's
// hard_sigmoid, which the importer refuses (a different function from Strata's), so the recurrent
// models here ask for 'sigmoid'.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as st from '../src/index.js';

async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

function randomizeWeights(model: tf.LayersModel): void {
  let seed = 1;
  for (const layer of model.layers) {
    if (!layer.getWeights().length) continue;
    layer.setWeights(layer.getWeights().map((w) => tf.randomUniform(w.shape, -0.5, 0.5, 'float32', seed++)));
  }
}

/** Loads tfjs's saved model into Strata and compares the predictions on one random input. */
async function compare(model: tf.LayersModel, shape: number[], label: string): Promise<st.Model> {
  randomizeWeights(model);
  const ours = await st.tfjs.load((await artifactsOf(model)) as unknown as st.TfjsArtifacts);
  const x = st.randomUniform(shape, { min: -1, max: 1, seed: 5 });
  const a = await (ours.predict(x) as st.Tensor).data();
  const b = await (model.predict(tf.tensor((await x.data()) as Float32Array, shape)) as tf.Tensor).data();
  assert.equal(a.length, b.length, `${label}: output sizes`);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  assert.ok(diff <= 1e-4, `${label}: max difference ${diff}`);
  assert.equal(ours.countParams(), model.countParams(), `${label}: parameter count`);
  return ours;
}

describe('tfjs import of recently added layer classes', () => {
  it('conv3d (same, strided; valid, dilated), conv3dTranspose, maxPooling3d, averagePooling3d', async () => {
    const L = tf.layers;
    const input = tf.input({ shape: [6, 7, 6, 2] });
    let x = L.conv3d({ filters: 3, kernelSize: [2, 3, 2], strides: [1, 2, 1], padding: 'same', activation: 'relu' }).apply(
      input,
    ) as tf.SymbolicTensor;
    x = L.conv3d({ filters: 4, kernelSize: 2, dilationRate: [1, 1, 2], padding: 'valid', useBias: false }).apply(x) as tf.SymbolicTensor;
    x = L.conv3dTranspose({ filters: 2, kernelSize: [2, 2, 3], strides: [2, 1, 2], padding: 'same' }).apply(x) as tf.SymbolicTensor;
    x = L.maxPooling3d({ poolSize: [2, 2, 2], strides: [2, 1, 2], padding: 'same' }).apply(x) as tf.SymbolicTensor;
    x = L.averagePooling3d({ poolSize: 2, padding: 'valid' }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: x });
    await compare(model, [2, 6, 7, 6, 2], '3-D layers');
  });

  it('convLstm2d (sequences, then the last step)', async () => {
    const L = tf.layers;
    const model = tf.sequential({
      layers: [
        L.convLstm2d({ inputShape: [3, 5, 5, 2], filters: 3, kernelSize: 3, padding: 'same', returnSequences: true, recurrentActivation: 'sigmoid' }),
        L.convLstm2d({ filters: 2, kernelSize: [2, 3], padding: 'valid', unitForgetBias: false, recurrentActivation: 'sigmoid' }),
      ],
    });
    await compare(model, [2, 3, 5, 5, 2], 'convLstm2d');
  });

  for (const [label, make] of [
    ['simpleRNNCell', () => tf.layers.simpleRNNCell({ units: 4, activation: 'relu' })],
    ['lstmCell', () => tf.layers.lstmCell({ units: 3, recurrentActivation: 'sigmoid' })],
    ['gruCell', () => tf.layers.gruCell({ units: 3, recurrentActivation: 'sigmoid' })],
    [
      'stackedRNNCells',
      () =>
        tf.layers.stackedRNNCells({
          cells: [tf.layers.lstmCell({ units: 4, recurrentActivation: 'sigmoid' }), tf.layers.gruCell({ units: 3, recurrentActivation: 'sigmoid' })],
        }),
    ],
  ] as const) {
    it(`rnn with ${label}`, async () => {
      const model = tf.sequential({
        layers: [tf.layers.rnn({ inputShape: [5, 3], cell: make() as Parameters<typeof tf.layers.rnn>[0]['cell'], returnSequences: true })],
      });
      await compare(model, [2, 5, 3], `rnn(${label})`);
    });
  }

  it('rnn with a list of cells (stacked), last step only, backwards', async () => {
    const cells = [tf.layers.simpleRNNCell({ units: 3 }), tf.layers.lstmCell({ units: 2, recurrentActivation: 'sigmoid' })];
    const model = tf.sequential({ layers: [tf.layers.rnn({ inputShape: [4, 3], cell: cells, goBackwards: true })] });
    await compare(model, [2, 4, 3], 'rnn([cells])');
  });
});

// Classes tfjs 4.22 lacks (Keras 3 and tf.keras have them): a Keras-style model.json written here
// (snake_case config as Keras serializes it, weights named layer/weight as tf.keras saves them),
// loaded by st.tfjs.load, must predict as the same layer built directly with Strata's options.
interface KerasOnlyCase {
  label: string;
  className: string;
  config: Record<string, unknown>;
  inputShape: number[];
  direct: () => st.Layer;
  kerasWeightNames: string[];
}

const kerasOnly: KerasOnlyCase[] = [
  {
    label: 'Conv1DTranspose',
    className: 'Conv1DTranspose',
    config: { filters: 3, kernel_size: [3], strides: [2], padding: 'same', activation: 'tanh', use_bias: true, data_format: 'channels_last' },
    inputShape: [5, 2],
    direct: () => st.layers.conv1dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }),
    kerasWeightNames: ['kernel', 'bias'],
  },
  {
    label: 'DepthwiseConv1D',
    className: 'DepthwiseConv1D',
    config: { depth_multiplier: 2, kernel_size: [3], strides: [1], padding: 'valid', dilation_rate: [2], use_bias: true },
    inputShape: [9, 3],
    direct: () => st.layers.depthwiseConv1d({ depthMultiplier: 2, kernelSize: 3, dilationRate: 2 }),
    kerasWeightNames: ['depthwise_kernel', 'bias'],
  },
  {
    label: 'SeparableConv1D',
    className: 'SeparableConv1D',
    config: { filters: 4, depth_multiplier: 1, kernel_size: [2], strides: [2], padding: 'same', activation: 'relu', use_bias: false },
    inputShape: [7, 3],
    direct: () => st.layers.separableConv1d({ filters: 4, kernelSize: 2, strides: 2, padding: 'same', activation: 'relu', useBias: false }),
    kerasWeightNames: ['depthwise_kernel', 'pointwise_kernel'],
  },
  {
    label: 'GlobalAveragePooling3D (keepdims)',
    className: 'GlobalAveragePooling3D',
    config: { keepdims: true, data_format: 'channels_last' },
    inputShape: [3, 4, 2, 2],
    direct: () => st.layers.globalAveragePooling3d({ keepdims: true }),
    kerasWeightNames: [],
  },
  {
    label: 'GlobalMaxPooling3D',
    className: 'GlobalMaxPooling3D',
    config: { keepdims: false },
    inputShape: [3, 4, 2, 2],
    direct: () => st.layers.globalMaxPooling3d({}),
    kerasWeightNames: [],
  },
  {
    label: 'ConvLSTM1D',
    className: 'ConvLSTM1D',
    config: {
      filters: 3,
      kernel_size: [3],
      padding: 'same',
      recurrent_activation: 'sigmoid',
      return_sequences: true,
      go_backwards: true,
      unit_forget_bias: true,
    },
    inputShape: [4, 6, 2],
    direct: () => st.layers.convLstm1d({ filters: 3, kernelSize: 3, padding: 'same', returnSequences: true, goBackwards: true }),
    kerasWeightNames: ['kernel', 'recurrent_kernel', 'bias'],
  },
  {
    label: 'ConvLSTM3D',
    className: 'ConvLSTM3D',
    config: { filters: 2, kernel_size: [2, 2, 2], padding: 'valid', recurrent_activation: 'sigmoid', activation: 'relu' },
    inputShape: [3, 4, 3, 3, 2],
    direct: () => st.layers.convLstm3d({ filters: 2, kernelSize: 2, activation: 'relu' }),
    kerasWeightNames: ['kernel', 'recurrent_kernel', 'bias'],
  },
  {
    label: 'EinsumDense',
    className: 'EinsumDense',
    config: { equation: 'abc,cde->abde', output_shape: [null, 3, 2], bias_axes: 'de', activation: 'relu' },
    inputShape: [4, 5],
    direct: () => st.layers.einsumDense({ equation: 'abc,cde->abde', outputShape: [null, 3, 2], biasAxes: 'de', activation: 'relu' }),
    kerasWeightNames: ['kernel', 'bias'],
  },
  {
    label: 'AdaptiveAveragePooling2D',
    className: 'AdaptiveAveragePooling2D',
    config: { output_size: [2, 3], data_format: 'channels_last' },
    inputShape: [5, 7, 2],
    direct: () => st.layers.adaptiveAveragePooling2d({ outputSize: [2, 3] }),
    kerasWeightNames: [],
  },
  {
    label: 'AdaptiveMaxPooling1D',
    className: 'AdaptiveMaxPooling1D',
    config: { output_size: 3 },
    inputShape: [8, 2],
    direct: () => st.layers.adaptiveMaxPooling1d({ outputSize: 3 }),
    kerasWeightNames: [],
  },
];

describe('tfjs/tf.keras import of Keras classes tfjs lacks (hand-written Keras configs)', () => {
  for (const c of kerasOnly) {
    it(c.label, async () => {
      const layer = c.direct();
      const direct = st.sequential({ layers: [layer] });
      direct.build([null, ...c.inputShape]);
      layer.setWeights(layer.getWeights().map((w, i) => st.randomUniform([...w.shape], { min: -0.5, max: 0.5, seed: 30 + i })));
      const weights = layer.getWeights();
      assert.equal(weights.length, c.kerasWeightNames.length, 'weights the case names');
      const parts = await Promise.all(weights.map(async (w) => (await w.data()) as Float32Array));
      const bytes = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        bytes.set(p, at);
        at += p.length;
      }
      const artifacts = {
        modelTopology: {
          class_name: 'Sequential',
          config: {
            name: 'seq',
            layers: [
              {
                class_name: c.className,
                config: { name: 'imported', trainable: true, dtype: 'float32', batch_input_shape: [null, ...c.inputShape], ...c.config },
              },
            ],
          },
        },
        weightSpecs: weights.map((w, i) => ({ name: `imported/${c.kerasWeightNames[i]}`, shape: [...w.shape], dtype: 'float32' })),
        weightData: bytes.buffer,
      };
      const ours = await st.tfjs.load(artifacts);
      const x = st.randomUniform([2, ...c.inputShape], { min: -1, max: 1, seed: 9 });
      const a = await (ours.predict(x) as st.Tensor).data();
      const b = await (direct.predict(x) as st.Tensor).data();
      assert.deepEqual(Array.from(a), Array.from(b), c.label);
      assert.ok(
        Array.from(b).some((v) => v !== 0),
        'a non-trivial output',
      );
    });
  }
});

describe('tf.keras-style functional models with Attention and AdditiveAttention', () => {
  for (const [className, make] of [
    ['Attention', () => st.layers.attention({ useScale: true, scoreMode: 'concat' })],
    ['AdditiveAttention', () => st.layers.additiveAttention({ useScale: true })],
  ] as const) {
    it(`${className} on [query, value]`, async () => {
      const q = st.layers.input({ shape: [3, 4] }),
        v = st.layers.input({ shape: [5, 4] });
      const layer = make();
      const direct = st.model({ inputs: [q, v], outputs: layer.apply([q, v]) as st.SymbolicTensor });
      layer.setWeights(layer.getWeights().map((w, i) => st.randomUniform([...w.shape], { min: 0.5, max: 1.5, seed: 40 + i })));
      const weights = layer.getWeights();
      const bytes = new Float32Array(weights.flatMap((w) => Array.from(w.dataSync())));
      const input = (name: string, shape: number[]) => ({
        class_name: 'InputLayer',
        name,
        config: { name, batch_input_shape: [null, ...shape], dtype: 'float32' },
        inbound_nodes: [],
      });
      const config = className === 'Attention' ? { use_scale: true, score_mode: 'concat', dropout: 0 } : { use_scale: true, dropout: 0 };
      const artifacts = {
        modelTopology: {
          class_name: 'Functional',
          config: {
            name: 'm',
            layers: [
              input('q', [3, 4]),
              input('v', [5, 4]),
              {
                class_name: className,
                name: 'att',
                config: { name: 'att', trainable: true, dtype: 'float32', ...config },
                inbound_nodes: [
                  [
                    ['q', 0, 0, {}],
                    ['v', 0, 0, {}],
                  ],
                ],
              },
            ],
            input_layers: [
              ['q', 0, 0],
              ['v', 0, 0],
            ],
            output_layers: [['att', 0, 0]],
          },
        },
        weightSpecs: weights.map((w, i) => ({ name: `att/${layer.weights[i].name}`, shape: [...w.shape], dtype: 'float32' })),
        weightData: bytes.buffer,
      };
      const ours = await st.tfjs.load(artifacts);
      const xs = [st.randomUniform([2, 3, 4], { min: -1, max: 1, seed: 1 }), st.randomUniform([2, 5, 4], { min: -1, max: 1, seed: 2 })];
      assert.deepEqual(Array.from((ours.predict(xs) as st.Tensor).dataSync()), Array.from((direct.predict(xs) as st.Tensor).dataSync()));
      assert.equal(ours.countParams(), direct.countParams());
    });
  }
});
