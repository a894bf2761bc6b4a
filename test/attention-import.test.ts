// MultiHeadAttention and GroupQueryAttention through the tfjs/Keras importers: Keras 2's call
// record (the query's tensor reference with value and key in its keyword entry, as tf.keras and
// tfjs write it), Keras 3's ({args, kwargs}) and a Keras 3 `.keras` archive, whose projections sit
// in sub-layers `_query_dense`, `_key_dense`, `_value_dense`, `_output_dense` (keras/src/layers/
// attention/multi_head_attention.py and saving_lib.py's attribute walk, Keras 3.x). Each import is
// checked against the same layer built directly in Strata with the same weights; the layers
// themselves are checked against PyTorch in test/attention.test.ts. Query, value and key have
// different lengths and feature sizes and the query and key kernels have the same shape, so a
// wrong wiring or a swapped projection shows.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import h5wasm from 'h5wasm';
import * as st from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-attention-import-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Json = Record<string, unknown>;
const SHAPES = { q: [4, 6], v: [5, 3], k: [5, 6] } as const;
const inputs = () => [
  st.randomUniform([2, ...SHAPES.q], { min: -1, max: 1, seed: 1 }),
  st.randomUniform([2, ...SHAPES.v], { min: -1, max: 1, seed: 2 }),
  st.randomUniform([2, ...SHAPES.k], { min: -1, max: 1, seed: 3 }),
];

interface Case {
  keras: string;
  config: Json;
  make: () => st.Layer;
}
const CASES: Case[] = [
  {
    keras: 'MultiHeadAttention',
    config: { num_heads: 2, key_dim: 3, value_dim: 2, dropout: 0, use_bias: true, output_shape: null, attention_axes: null },
    make: () => st.layers.multiHeadAttention({ numHeads: 2, keyDim: 3, valueDim: 2, name: 'att' }),
  },
  {
    keras: 'GroupQueryAttention',
    config: { head_dim: 3, num_query_heads: 4, num_key_value_heads: 2, dropout: 0, use_bias: true },
    make: () => st.layers.groupQueryAttention({ headDim: 3, numQueryHeads: 4, numKeyValueHeads: 2, name: 'att' }),
  },
];

/** The model built in Strata: att(q, value=v, key=k) over three inputs, with seeded random weights (biases too). */
function direct(c: Case): st.Model {
  const [q, v, k] = (['q', 'v', 'k'] as const).map((n) => st.input({ shape: [...SHAPES[n]], name: n }));
  const out = (c.make() as st.MultiHeadAttention).apply(q, { value: v, key: k });
  const model = st.model({ inputs: [q, v, k], outputs: out });
  model.setWeights(model.weights.map((w, i) => st.randomUniform([...w.value.shape], { min: -0.5, max: 0.5, seed: 10 + i })));
  return model;
}

/** The same graph as Keras 2 (tf.keras, tfjs) or Keras 3 writes it. */
function topology(c: Case, era: 2 | 3, callStyle: 'positional' | 'keywords' = 'keywords'): Json {
  const kt = (layer: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 0, 0], dtype: 'float32', keras_history: [layer, 0, 0] } });
  const input = (n: 'q' | 'v' | 'k') => ({
    class_name: 'InputLayer',
    name: n,
    config: { batch_input_shape: [null, ...SHAPES[n]], dtype: 'float32', name: n },
    inbound_nodes: [],
  });
  const call =
    era === 2
      ? [[['q', 0, 0, { value: ['v', 0, 0], key: ['k', 0, 0], attention_mask: null, use_causal_mask: false }]]]
      : callStyle === 'positional'
        ? [{ args: [kt('q'), kt('v'), kt('k')], kwargs: { return_attention_scores: false } }]
        : [{ args: [kt('q')], kwargs: { value: kt('v'), key: kt('k'), attention_mask: null, training: false } }];
  return {
    class_name: 'Functional',
    config: {
      name: 'imported',
      layers: [input('q'), input('v'), input('k'), { class_name: c.keras, name: 'att', config: { name: 'att', ...c.config }, inbound_nodes: call }],
      input_layers: [
        ['q', 0, 0],
        ['v', 0, 0],
        ['k', 0, 0],
      ],
      output_layers: [['att', 0, 0]],
    },
  };
}

/** tfjs artifacts of the topology, the weights under their Keras 2 names (att/query/kernel, ...). */
async function artifacts(model: st.Model, modelTopology: Json): Promise<st.TfjsArtifacts> {
  const values = await Promise.all(model.weights.map(async (w) => Array.from(await w.value.data())));
  return {
    modelTopology,
    weightSpecs: model.weights.map((w) => ({ name: w.path, shape: [...w.value.shape], dtype: 'float32' })),
    weightData: new Float32Array(values.flat()).buffer,
  };
}

async function assertSamePredictions(imported: st.Model, reference: st.Model): Promise<void> {
  const xs = inputs();
  const a = await (imported.predict(xs) as st.Tensor).data();
  const b = await (reference.predict(xs) as st.Tensor).data();
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-6, `[${i}] ${v} vs ${b[i]}`));
}

/** A Keras 3 `.keras` archive of the case: config.json and model.weights.h5 in saving_lib's layout. */
async function kerasArchive(c: Case, model: st.Model): Promise<Uint8Array> {
  const { FS } = await h5wasm.ready;
  const f = new h5wasm.File('/attention.h5', 'w');
  f.create_group('vars');
  f.create_group('layers');
  for (const n of ['q', 'v', 'k', 'att']) {
    f.create_group(`layers/${n}`);
    f.create_group(`layers/${n}/vars`);
  }
  // The projections by role, each an EinsumDense with vars 0 (kernel) and 1 (bias); the softmax
  // and dropout sub-layers have no variables (empty vars groups).
  const roles = { query: '_query_dense', key: '_key_dense', value: '_value_dense', attention_output: '_output_dense' };
  for (const sub of ['_dropout_layer', '_softmax', ...Object.values(roles)]) {
    f.create_group(`layers/att/${sub}`);
    f.create_group(`layers/att/${sub}/vars`);
  }
  for (const w of model.weights) {
    const [, role, kind] = w.path.split('/');
    const group = f.get(`layers/att/${roles[role as keyof typeof roles]}/vars`) as InstanceType<typeof h5wasm.Group>;
    group.create_dataset({ name: kind === 'kernel' ? '0' : '1', data: await w.value.data(), shape: [...w.value.shape], dtype: '<f' });
  }
  f.close();
  const weights = FS.readFile('/attention.h5');
  FS.unlink('/attention.h5');
  const config = { module: 'keras', class_name: 'Functional', config: (topology(c, 3) as { config: Json }).config, registered_name: 'Functional' };
  return zipSync({
    'metadata.json': strToU8(JSON.stringify({ keras_version: '3.16.0', date_saved: '2026-12-07@00:00:00' })),
    'config.json': strToU8(JSON.stringify(config)),
    'model.weights.h5': weights,
  });
}

describe('attention layers through the importers', () => {
  for (const c of CASES) {
    const reference = direct(c);
    const eras: [2 | 3, 'positional' | 'keywords'][] = c.keras === 'MultiHeadAttention' ? [[2, 'keywords']] : [];
    eras.push([3, 'keywords'], [3, 'positional']);
    for (const [era, style] of eras) {
      it(`${c.keras}: Keras ${era}'s call record${era === 3 ? ` (${style})` : ''} imports as att([query, value, key])`, async () => {
        const model = await st.tfjs.load(await artifacts(reference, topology(c, era, style)));
        await assertSamePredictions(model, reference);
      });
    }

    it(`${c.keras}: a Keras 3 .keras archive, projections read from _query_dense, _key_dense, _value_dense, _output_dense`, async () => {
      const path = join(dir, `${c.keras}.keras`);
      writeFileSync(path, await kerasArchive(c, reference));
      const model = await st.keras.load(path);
      await assertSamePredictions(model, reference);
      // The imported layer trains and saves like one built in Strata.
      await model.save(join(dir, `${c.keras}-saved`));
      await assertSamePredictions(await st.loadModel(join(dir, `${c.keras}-saved`)), reference);
    });
  }

  it('refuses what it cannot replay, naming the layer and the argument', async () => {
    const c = CASES[0];
    const reference = direct(c);
    const withCall = (kwargs: Json) => {
      const t = topology(c, 2);
      const layers = (t.config as { layers: Json[] }).layers;
      layers[3].inbound_nodes = [[['q', 0, 0, { value: ['v', 0, 0], ...kwargs }]]];
      return t;
    };
    const rejects = async (t: Json, ...patterns: RegExp[]) =>
      assert.rejects(st.tfjs.load(await artifacts(reference, t)), (e: Error) => {
        assert.ok(e instanceof st.ValueError, `${e.constructor.name}: ${e.message}`);
        for (const p of patterns) assert.match(e.message, p);
        return true;
      });
    await rejects(
      withCall({ attention_mask: ['k', 0, 0] }),
      /inbound node 0 of layer 'att' passes attention_mask=\["k",0,0\]: masks passed as call arguments/,
    );
    await rejects(withCall({ return_attention_scores: true }), /return_attention_scores=true: only the attention output is imported/);
    const axes = topology(c, 2);
    ((axes.config as { layers: Json[] }).layers[3].config as Json).attention_axes = [2];
    await rejects(axes, /MultiHeadAttention layer 'att': attention_axes must be null or \[1\]/);
  });
});
