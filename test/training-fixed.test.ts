// A `training` flag fixed when a layer or model is called in a functional graph
// (`base.apply(x, {training: false})`, Keras's `base(x, training=False)` in its fine-tuning recipe)
// wins over the flag fit() passes down: the base's batch normalization keeps its moving
// statistics while the rest trains. Also through save/load, and through the tfjs/Keras importers,
// which read the flag from Keras 2's tensor-reference keywords and Keras 3's call kwargs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as st from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-training-fixed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const x = () => st.add(st.mul(st.randomNormal([32, 3], { seed: 1 }), 2), 1);
const y = () => st.randomNormal([32, 1], { seed: 2 });

/** The values of a layer's weights, by the weight's last name part (gamma, moving_mean, ...). */
async function weightValues(layer: st.Layer): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const w of layer.weights) out[w.path.split('/').at(-1)!] = Array.from(await w.value.data());
  return out;
}

const changed = (a: number[], b: number[]) => a.some((v, i) => v !== b[i]);

/**
 * Fits `model` one epoch and checks the batch normalization layer `bn`: its moving statistics
 * stay as they were when `fixed`, and move otherwise; gamma trains either way (the flag picks the
 * statistics, not which weights train).
 */
async function checkFit(model: st.Model, bn: st.Layer, fixed: boolean): Promise<void> {
  model.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.005 }), loss: 'meanSquaredError' });
  const before = await weightValues(bn);
  await model.fit(x(), y(), { epochs: 1, batchSize: 8, verbose: 0 });
  const now = await weightValues(bn);
  assert.ok(changed(before.gamma, now.gamma), 'gamma trains');
  for (const k of ['moving_mean', 'moving_variance']) {
    assert.equal(changed(before[k], now[k]), !fixed, `${k} ${fixed ? 'kept' : 'updated'}: ${before[k]} -> ${now[k]}`);
  }
}

function fineTuneModel(training: boolean | undefined): { model: st.Model; bn: st.Layer } {
  const bn = st.layers.batchNormalization({ name: 'bn' });
  const base = st.sequential({ name: 'base', layers: [st.layers.dense({ units: 4, inputShape: [3], name: 'd' }), bn] });
  const input = st.input({ shape: [3] });
  const features = base.apply(input, training === undefined ? {} : { training }) as st.SymbolicTensor;
  const output = st.layers.dense({ units: 1, name: 'head' }).apply(features) as st.SymbolicTensor;
  return { model: st.model({ inputs: input, outputs: output }), bn };
}

describe('training fixed at call time', () => {
  it('base.apply(x, {training: false}) keeps the base batch normalization in inference mode during fit', async () => {
    const fixed = fineTuneModel(false);
    await checkFit(fixed.model, fixed.bn, true);
    // Without the flag fit's training reaches the base, and so with {training: true}.
    for (const flag of [undefined, true]) {
      const free = fineTuneModel(flag);
      await checkFit(free.model, free.bn, false);
    }
  });

  it('predict with the flag fixed to true uses batch statistics, as Keras does', async () => {
    const { model } = fineTuneModel(true);
    const { model: plain } = fineTuneModel(undefined);
    plain.setWeights(model.getWeights());
    const input = x();
    const a = await (model.predict(input) as st.Tensor).data();
    const b = await (plain.predict(input) as st.Tensor).data();
    const c = await (plain.apply(input, { training: true }) as st.Tensor).data();
    assert.ok(changed(Array.from(a), Array.from(b)), 'fixed true differs from inference');
    Array.from(a).forEach((v, i) => assert.ok(Math.abs(v - c[i]) <= 1e-5, `${v} vs ${c[i]}`));
  });

  it('the flag survives save and load', async () => {
    const { model } = fineTuneModel(false);
    await model.save(join(dir, 'fixed'));
    const loaded = await st.loadModel(join(dir, 'fixed'));
    await checkFit(loaded, (loaded.getLayer('base') as st.Model).getLayer('bn'), true);
  });
});

/** A Keras functional model [x -> base(x, training=False) -> head] as tfjs and Keras 2 or 3 write it. */
function kerasTopology(era: 2 | 3): Record<string, unknown> {
  const ref = (layer: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 4], dtype: 'float32', keras_history: [layer, 0, 0] } });
  const inbound = (layer: string, training?: boolean) =>
    era === 2
      ? [[[layer, 0, 0, training === undefined ? {} : { training }]]]
      : [{ args: [ref(layer)], kwargs: training === undefined ? {} : { training } }];
  const base = {
    class_name: 'Functional',
    name: 'base',
    config: {
      name: 'base',
      layers: [
        { class_name: 'InputLayer', name: 'img', config: { batch_input_shape: [null, 3], dtype: 'float32', name: 'img' }, inbound_nodes: [] },
        { class_name: 'Dense', name: 'd', config: { name: 'd', units: 4, activation: 'linear', use_bias: true }, inbound_nodes: inbound('img') },
        {
          class_name: 'BatchNormalization',
          name: 'bn',
          config: { name: 'bn', axis: -1, momentum: 0.9, epsilon: 0.001, center: true, scale: true },
          inbound_nodes: inbound('d'),
        },
      ],
      input_layers: [['img', 0, 0]],
      output_layers: [['bn', 0, 0]],
    },
  };
  return {
    class_name: 'Functional',
    config: {
      name: 'fine_tune',
      layers: [
        { class_name: 'InputLayer', name: 'x', config: { batch_input_shape: [null, 3], dtype: 'float32', name: 'x' }, inbound_nodes: [] },
        { ...base, inbound_nodes: inbound('x', false) },
        {
          class_name: 'Dense',
          name: 'head',
          config: { name: 'head', units: 1, activation: 'linear', use_bias: true },
          inbound_nodes: inbound('base'),
        },
      ],
      input_layers: [['x', 0, 0]],
      output_layers: [['head', 0, 0]],
    },
  };
}

describe('training fixed at call time, imported', () => {
  const shapes: [string, number[]][] = [
    ['d/kernel', [3, 4]],
    ['d/bias', [4]],
    ['bn/gamma', [4]],
    ['bn/beta', [4]],
    ['bn/moving_mean', [4]],
    ['bn/moving_variance', [4]],
    ['head/kernel', [4, 1]],
    ['head/bias', [1]],
  ];
  const values = shapes.flatMap(([name, shape], k) =>
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (name.endsWith('variance') ? 1 + 0.1 * i : Math.sin(i * 1.7 + k))),
  );
  for (const era of [2, 3] as const) {
    it(`Keras ${era}'s base(x, training=False) keeps the imported base's moving statistics during fit`, async () => {
      const model = await st.tfjs.load({
        modelTopology: kerasTopology(era),
        weightSpecs: shapes.map(([name, shape]) => ({ name, shape, dtype: 'float32' })),
        weightData: new Float32Array(values).buffer,
      });
      await checkFit(model, (model.getLayer('base') as st.Model).getLayer('bn'), true);
    });
  }
});
