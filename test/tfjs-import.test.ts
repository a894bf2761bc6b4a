// st.tfjs.load beyond the networks: a corpus of broken files (Note [Hostile tfjs weights]), the
// list of unsupported layers, Sequential configs of both Keras eras, uint16 and float16 weights
// against tfjs, and an imported model that trains, saves and loads back.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as st from '../src/index.js';
import { type ModelFiles, toArtifacts, upscalerFiles } from './tfjs-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-tfjs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Json = Record<string, unknown>;
type Spec = { name: string; shape: number[]; dtype: string; quantization?: Json };

/** Writes a model's files into a folder of its own and returns model.json's path. */
function save(name: string, json: Json, shards: { path: string; bytes: Uint8Array }[]): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'model.json'), JSON.stringify(json));
  for (const s of shards) writeFileSync(join(folder, s.path), s.bytes);
  return join(folder, 'model.json');
}

/** The upscaler's files with a change to model.json's copy. */
function variant(change: (json: Json, specs: Spec[]) => void): ModelFiles {
  const files = upscalerFiles();
  const json = structuredClone(files.json);
  change(json, (json.weightsManifest as { weights: Spec[] }[])[0].weights);
  return { json, shards: files.shards };
}

async function rejectsWith(p: Promise<unknown>, cls: typeof st.StrataError, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof cls, `${e.constructor.name}: ${e.message}`);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

describe('broken tfjs files are FormatErrors naming the file and the problem', () => {
  const good = upscalerFiles();
  const shard = good.shards[0];

  it('a truncated shard', async () => {
    const path = save('truncated', good.json, [{ path: shard.path, bytes: shard.bytes.subarray(0, shard.bytes.length - 1000) }]);
    await rejectsWith(st.tfjs.load(path), st.FormatError, /truncated\/group1-shard1of1\.bin: truncated/, /needs bytes \d+ to \d+/);
    // st.loadModel routes the file to the importer, so the same error reaches its users.
    await rejectsWith(st.loadModel(path), st.FormatError, /group1-shard1of1\.bin: truncated/);
  });

  it('a missing shard file', async () => {
    const path = save('missing', good.json, []);
    await rejectsWith(st.tfjs.load(path), st.FormatError, /missing\/group1-shard1of1\.bin: cannot read .*no such file/);
  });

  it('a shape that disagrees with the byte count', async () => {
    const { json } = variant((_, specs) => (specs[1].shape = [63]));
    await rejectsWith(
      st.tfjs.load(save('mismatch', json, good.shards)),
      st.FormatError,
      /mismatch\/model\.json: .*lists weights of \d+ bytes, but its shards/,
    );
  });

  it('an absurd shape', async () => {
    const { json } = variant((_, specs) => (specs[0].shape = [1e9, 1e9]));
    await rejectsWith(
      st.tfjs.load(save('absurd', json, good.shards)),
      st.FormatError,
      /absurd\/model\.json: weight 'F_0\/kernel' has the absurd shape \[1000000000, 1000000000\]/,
    );
  });

  it('malformed JSON', async () => {
    const folder = join(dir, 'malformed');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'model.json'), '{"modelTopology": {"class_name": ');
    await rejectsWith(st.tfjs.load(join(folder, 'model.json')), st.FormatError, /malformed\/model\.json: not valid JSON/);
  });

  it('an unknown quantization dtype', async () => {
    const { json } = variant((_, specs) => (specs[2].quantization = { dtype: 'int4', scale: 1, min: 0 }));
    await rejectsWith(
      st.tfjs.load(save('quant', json, good.shards)),
      st.FormatError,
      /quant\/model\.json: weight 'F_1_1\/kernel': quantization dtype must be uint8, uint16 or float16; received "int4"/,
    );
  });

  it('a shard path that leaves the folder, weights no layer has, a layer without its weights', async () => {
    const escape = variant((json) => ((json.weightsManifest as Json[])[0].paths = ['../truncated/group1-shard1of1.bin']));
    await rejectsWith(st.tfjs.load(save('escape', escape.json, [])), st.FormatError, /escape\/model\.json: .*expected a relative path inside/);
    const renamed = variant((_, specs) => (specs[0].name = 'F_0/kernel_renamed'));
    await rejectsWith(st.tfjs.load(save('renamed', renamed.json, good.shards)), st.FormatError, /lacks 1 weight.*F_0\/kernel/);
  });

  it('a dimension that is not an integer, artifacts of the wrong kind', async () => {
    const { json } = variant((_, specs) => (specs[0].shape = [3, 3, -64, 64]));
    await rejectsWith(st.tfjs.load(save('negative', json, good.shards)), st.FormatError, /shape must be a list of non-negative integers/);
    await rejectsWith(st.tfjs.load({ modelTopology: { class_name: 'Foo' } }), st.FormatError, /tfjs artifacts: expected a Keras model config/);
  });
});

describe('tfjs import: layers, configs and weights', () => {
  it('lists every unsupported layer with its name at once', async () => {
    const { json, shards } = variant((j) => {
      const layers = ((j.modelTopology as Json).model_config as { config: { layers: Json[] } }).config.layers;
      layers[3].class_name = 'Lambda';
      layers[5].class_name = 'MyCustomLayer';
    });
    await rejectsWith(
      st.tfjs.load(toArtifacts({ json, shards })),
      st.ValueError,
      /2 layers are not supported by the tfjs importer: Lambda \(layer 'F_1_1'\), MyCustomLayer \(layer 'RDB_Concat_1_1'\)/,
    );
    assert.ok(st.tfjs.supportedLayers().includes('DepthwiseConv2D'));
  });

  /** A Sequential Dense(4, relu) → Dense(2, softmax) on 3 features, in either era's config. */
  function sequentialArtifacts(era: 'keras-2.2.4' | 'tf-2.10', quantization: 'uint16' | 'float16') {
    const dense = (name: string, units: number, activation: string, extra: Json = {}) => ({
      class_name: 'Dense',
      config: {
        name,
        units,
        activation,
        use_bias: true,
        trainable: true,
        kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
        ...extra,
      },
    });
    const layers =
      era === 'keras-2.2.4'
        ? [dense('d1', 4, 'relu', { batch_input_shape: [null, 3], dtype: 'float32' }), dense('d2', 2, 'softmax')]
        : [
            { class_name: 'InputLayer', config: { batch_input_shape: [null, 3], dtype: 'float32', sparse: false, ragged: false, name: 'in' } },
            dense('d1', 4, 'relu', { dtype: { class_name: 'Policy', config: { name: 'float32' } } }),
            dense('d2', 2, 'softmax'),
          ];
    const config = era === 'keras-2.2.4' ? layers : { name: 'seq', layers };
    const shapes: [string, number[]][] = [
      ['d1/kernel', [3, 4]],
      ['d1/bias', [4]],
      ['d2/kernel', [4, 2]],
      ['d2/bias', [2]],
    ];
    const specs: Spec[] = [];
    const parts: Uint8Array[] = [];
    shapes.forEach(([name, shape], k) => {
      const n = shape.reduce((a, b) => a * b, 1);
      // Eighths in [-1, 1] are exact in float16, so both libraries decode the same values.
      const values = Array.from({ length: n }, (_, i) => ((((i + 3) * 5 + k) % 17) - 8) / 8);
      const bytes = new Uint8Array(n * 2);
      const view = new DataView(bytes.buffer);
      if (quantization === 'uint16') values.forEach((v, i) => view.setUint16(i * 2, (v + 1) * 8, true));
      else values.forEach((v, i) => view.setUint16(i * 2, halfBits(v), true));
      const q = quantization === 'uint16' ? { dtype: 'uint16', scale: 1 / 8, min: -1 } : { dtype: 'float16' };
      specs.push({ name: `${name}:0`, shape, dtype: 'float32', quantization: q });
      parts.push(bytes);
    });
    return {
      modelTopology: { class_name: 'Sequential', config, keras_version: '2.2.4' },
      weightSpecs: specs,
      weightData: parts.map((p) => p.slice().buffer),
    };
  }

  it('reads Sequential configs of Keras 2.2.4 and TF 2.10 with uint16 and float16 weights as tfjs does', async () => {
    const x = [0.5, -1.25, 2, 1, 0.25, -0.75];
    for (const era of ['keras-2.2.4', 'tf-2.10'] as const) {
      for (const q of ['uint16', 'float16'] as const) {
        const artifacts = sequentialArtifacts(era, q);
        const model = await st.tfjs.load(artifacts);
        assert.equal(model.className, 'Sequential');
        const ours = await (model.predict(st.tensor(x, [2, 3])) as st.Tensor).data();
        // tfjs takes one buffer and names without ':0'; ours took the list of buffers, read in order, and the suffixed names.
        const joined = new Uint8Array(artifacts.weightData.flatMap((b) => [...new Uint8Array(b)])).buffer;
        const weightSpecs = artifacts.weightSpecs.map((w) => ({ ...w, name: w.name.replace(':0', '') }));
        const reference = await tf.loadLayersModel(
          tf.io.fromMemory({ ...artifacts, weightSpecs, weightData: joined } as unknown as tf.io.ModelArtifacts),
        );
        const theirs = await (reference.predict(tf.tensor(x, [2, 3])) as tf.Tensor).data();
        for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i] - theirs[i]) <= 1e-6, `${era} ${q}: ${ours[i]} vs ${theirs[i]}`);
      }
    }
  });

  it('a base model nested in a Sequential (transfer learning) matches tfjs', async () => {
    const inner = {
      class_name: 'Functional',
      config: {
        name: 'base',
        layers: [
          { class_name: 'InputLayer', name: 'img', config: { batch_input_shape: [null, 5, 5, 2], dtype: 'float32', name: 'img' }, inbound_nodes: [] },
          {
            class_name: 'Conv2D',
            name: 'c1',
            config: { name: 'c1', filters: 3, kernel_size: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', use_bias: true, groups: 1 },
            inbound_nodes: [[['img', 0, 0, {}]]],
          },
          {
            class_name: 'GlobalAveragePooling2D',
            name: 'gap',
            config: { name: 'gap', data_format: 'channels_last', keepdims: false },
            inbound_nodes: [[['c1', 0, 0, {}]]],
          },
        ],
        input_layers: [['img', 0, 0]],
        output_layers: [['gap', 0, 0]],
      },
    };
    const topology = {
      class_name: 'Sequential',
      config: { name: 'transfer', layers: [inner, { class_name: 'Dense', config: { name: 'out', units: 2, activation: 'linear', use_bias: true } }] },
    };
    const shapes: [string, number[]][] = [
      ['c1/kernel', [3, 3, 2, 3]],
      ['c1/bias', [3]],
      ['out/kernel', [3, 2]],
      ['out/bias', [2]],
    ];
    const values = shapes.flatMap(([, shape], k) => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 1.7 + k)));
    const artifacts = {
      modelTopology: topology,
      weightSpecs: shapes.map(([name, shape]) => ({ name, shape, dtype: 'float32' })),
      weightData: new Float32Array(values).buffer,
    };
    const model = await st.tfjs.load(artifacts);
    const x = st.randomUniform([2, 5, 5, 2], { min: -1, max: 1, seed: 3 });
    const ours = await (model.predict(x) as st.Tensor).data();
    const reference = await tf.loadLayersModel(tf.io.fromMemory(artifacts as unknown as tf.io.ModelArtifacts));
    const theirs = await (reference.predict(tf.tensor(await x.data(), [2, 5, 5, 2])) as tf.Tensor).data();
    assert.equal(ours.length, 4);
    for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i] - theirs[i]) <= 1e-5, `${ours[i]} vs ${theirs[i]}`);
  });

  it('refuses what Strata would compute differently, and configs larger than their weights', async () => {
    const layerOf = (j: Json, i: number) =>
      ((j.modelTopology as Json).model_config as { config: { layers: { config: Json }[] } }).config.layers[i].config;
    const channelsFirst = variant((j) => (layerOf(j, 1).data_format = 'channels_first'));
    await rejectsWith(
      st.tfjs.load(toArtifacts(channelsFirst)),
      st.ValueError,
      /tfjs artifacts: Conv2D layer 'F_m1': data_format must be 'channels_last'; received "channels_first"/,
    );
    const hard = variant((j) => (layerOf(j, 4).activation = 'hard_sigmoid'));
    await rejectsWith(st.tfjs.load(toArtifacts(hard)), st.ValueError, /Activation layer 'F_1_1_Relu': activation 'hard_sigmoid'/);
    const grouped = variant((j) => (layerOf(j, 2).groups = 2));
    await rejectsWith(st.tfjs.load(toArtifacts(grouped)), st.ValueError, /groups must be 1/);
    // 2^28 filters would need a gigabyte of kernel: refused from the file's own weight bytes, before allocating.
    const huge = variant((j) => (layerOf(j, 1).filters = 2 ** 28));
    await rejectsWith(st.tfjs.load(toArtifacts(huge)), st.FormatError, /tfjs artifacts: .*F_m1\/kernel.*needs \d+ bytes/);
  });

  it('files picked in a page (File objects), through st.tfjs.load and st.loadModel', async () => {
    const files = upscalerFiles();
    const picked = [new File([JSON.stringify(files.json)], 'model.json'), ...files.shards.map((s) => new File([s.bytes], s.path))];
    const x = st.randomUniform([1, 6, 6, 3], { seed: 9 });
    const expected = await ((await st.tfjs.load(toArtifacts(files))).predict(x) as st.Tensor).data();
    for (const model of [await st.tfjs.load(picked), await st.loadModel(picked)])
      assert.deepEqual(await (model.predict(x) as st.Tensor).data(), expected);
    await rejectsWith(
      st.tfjs.load(picked.slice(0, 1)),
      st.FormatError,
      /model\.json: names the shard 'group1-shard1of1\.bin', which is not among the files given/,
    );
  });

  it('an imported model trains, saves and loads back', async () => {
    const model = await st.tfjs.load(toArtifacts(upscalerFiles()));
    const x = st.randomUniform([2, 6, 6, 3], { seed: 11 });
    const y = st.randomUniform([2, 12, 12, 3], { seed: 12 });
    const before = await model.layers
      .find((l) => l.name === 'SR')!
      .getWeights()[0]
      .data();
    model.compile({ optimizer: st.optimizers.adam({ learningRate: 1e-3 }), loss: 'meanSquaredError' });
    const history = await model.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0 });
    assert.ok(history.history.loss.every(Number.isFinite));
    const after = await model.layers
      .find((l) => l.name === 'SR')!
      .getWeights()[0]
      .data();
    assert.ok(
      after.some((v, i) => v !== before[i]),
      'training changed the weights',
    );
    await model.save(join(dir, 'trained'));
    const loaded = await st.loadModel(join(dir, 'trained'));
    assert.deepEqual(await (loaded.predict(x) as st.Tensor).data(), await (model.predict(x) as st.Tensor).data());
  });
});

/** float16 bits of a value that float16 holds exactly (normal or zero). */
function halfBits(v: number): number {
  if (v === 0) return 0;
  const sign = v < 0 ? 0x8000 : 0;
  const e = Math.floor(Math.log2(Math.abs(v)));
  return sign | ((e + 15) << 10) | Math.round((Math.abs(v) / 2 ** e - 1) * 1024);
}
