// st.tfjs.load on real tfjs LayersModels from npm packages, against TensorFlow.js itself running the
// same artifacts on the same seeded inputs: nsfwjs's MobileNetV2 and InceptionV3 (Keras 2.2.4
// configs, uint8-quantized weights, InceptionV3's tensors crossing shard boundaries) and
// @upscalerjs/default-model (an ESRGAN written by TF 2.10, float32 weights, read from its files).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as st from '../src/index.js';
import { type ModelFiles, nsfwjsFiles, toArtifacts, upscalerFiles } from './tfjs-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-tfjs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes model.json and its shards into a folder, so the file reader is what loads them. */
function saveFiles(files: ModelFiles, name: string): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'model.json'), JSON.stringify(files.json));
  for (const s of files.shards) writeFileSync(join(folder, s.path), s.bytes);
  return join(folder, 'model.json');
}

/**
 * Runs both libraries on the same seeded input and returns the largest absolute difference of the
 * outputs and of the named layers' outputs (a classifier's features say more than its probabilities).
 */
async function compare(model: st.Model, files: ModelFiles, shape: number[], label: string, layers: string[] = []): Promise<number> {
  const x = st.randomUniform(shape, { min: -1, max: 1, seed: 1234 });
  const xs = (await x.data()) as Float32Array;
  const reference = await tf.loadLayersModel(tf.io.fromMemory(toArtifacts(files) as unknown as tf.io.ModelArtifacts));
  const symbolic = (name: string) => model.graphNodes.find((n) => n.layer.name === name)!.outputs[0];
  const ours = st.model({ inputs: model.inputs, outputs: [...model.outputs, ...layers.map(symbolic)] });
  const theirs = tf.model({
    inputs: reference.inputs,
    outputs: [...reference.outputs, ...layers.map((n) => reference.getLayer(n).output as tf.SymbolicTensor)],
  });
  const a = [ours.predict(x)].flat() as st.Tensor[];
  const b = [theirs.predict(tf.tensor(xs, shape))].flat() as tf.Tensor[];
  let worst = 0;
  for (const [k, name] of ['output', ...layers].entries()) {
    const [p, q] = [await a[k].data(), await b[k].data()];
    assert.equal(p.length, q.length);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < p.length; i++) {
      diff = Math.max(diff, Math.abs(p[i] - q[i]));
      scale = Math.max(scale, Math.abs(q[i]));
    }
    console.log(`${label} ${name}: max |strata - tfjs| = ${diff.toExponential(2)} over ${p.length} values up to ${scale.toPrecision(3)}`);
    worst = Math.max(worst, diff);
  }
  return worst;
}

describe('tfjs LayersModels from npm packages match TensorFlow.js', () => {
  it('@upscalerjs/default-model (ESRGAN, TF 2.10 config) from model.json and its .bin', async () => {
    const files = upscalerFiles();
    const path = join('node_modules', '@upscalerjs', 'default-model', 'models', 'model.json');
    const model = await st.tfjs.load(path);
    assert.equal(model.layers.find((l) => l.name === 'UPsample')?.className, 'UpSampling2D');
    assert.ok((await compare(model, files, [2, 12, 12, 3], 'upscaler ESRGAN')) <= 1e-4);
    // st.loadModel recognises tfjs's model.json, named directly or by its folder.
    const viaLoadModel = [await st.loadModel(path), await st.loadModel(join('node_modules', '@upscalerjs', 'default-model', 'models'))];
    const x = st.randomUniform([1, 8, 8, 3], { seed: 5 });
    const expected = await (model.predict(x) as st.Tensor).data();
    for (const m of viaLoadModel) assert.deepEqual(await (m.predict(x) as st.Tensor).data(), expected);
  });

  it("nsfwjs's MobileNetV2 (Keras 2.2.4, uint8 quantization) from artifacts", async () => {
    const files = nsfwjsFiles('mobilenet_v2');
    const model = await st.tfjs.load(toArtifacts(files));
    const classes = model.layers.map((l) => l.className);
    for (const c of ['ZeroPadding2D', 'DepthwiseConv2D', 'ReLU', 'BatchNormalization', 'Add', 'AveragePooling2D', 'Dropout', 'Flatten', 'Dense']) {
      assert.ok(classes.includes(c), c);
    }
    assert.ok((await compare(model, files, [2, 224, 224, 3], 'nsfwjs MobileNetV2', ['flatten_1', 'dense_2'])) <= 1e-4);
  });

  it("nsfwjs's InceptionV3 (6 shards, tensors across their boundaries) from files", async () => {
    const files = nsfwjsFiles('inception_v3');
    const model = await st.tfjs.load(saveFiles(files, 'inception_v3'));
    assert.ok((await compare(model, files, [1, 299, 299, 3], 'nsfwjs InceptionV3', ['flatten_1', 'dense_2'])) <= 1e-4);
  });

  it('mobilenet_v2_mid is a GraphModel, which the LayersModel importer names as such', async () => {
    await assert.rejects(st.tfjs.load(toArtifacts(nsfwjsFiles('mobilenet_v2_mid'))), (e: Error) => {
      assert.ok(e instanceof st.FormatError && /GraphModel/.test(e.message), e.message);
      return true;
    });
  });
});
