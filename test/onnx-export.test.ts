// st.onnx.toBytes / save: each exported model runs in onnxruntime-node (a devDependency; its CPU
// binaries ship in the package) with Strata's own outputs, and re-imports with st.onnx.load.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import * as st from '../src/index.js';
import { exportCommand } from '../src/cli/export.js';
import { messages } from '../src/interop/onnx/schema.js';
import { EXPORTABLE_ACTIVATIONS } from '../src/interop/onnx/export-context.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-onnx-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOL = 1e-5;

/** Runs exported bytes in onnxruntime on the same arrays Strata gets; returns the max abs difference. */
async function ortDiff(model: st.Model, bytes: Uint8Array, xs: st.Tensor[]): Promise<number> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, ort.Tensor> = {};
  session.inputNames.forEach((name, i) => {
    const x = xs[i];
    feeds[name] = new ort.Tensor(x.dtype === 'int32' ? 'int32' : 'float32', x.dataSync() as Float32Array | Int32Array, x.shape);
  });
  const results = await session.run(feeds);
  const expected = model.predict(xs.length === 1 ? xs[0] : xs) as st.Tensor;
  const got = results[session.outputNames[0]];
  assert.deepEqual([...got.dims], expected.shape);
  const want = expected.dataSync(),
    have = got.data as Float32Array;
  let max = 0;
  for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i] - have[i]));
  return max;
}

const uniform = (shape: number[], seed: number) => st.randomUniform(shape, { min: -1, max: 1, seed });

/** Exports, runs in onnxruntime, re-imports; returns the two max differences. */
async function roundTrip(model: st.Model, xs: st.Tensor[], reimports = true): Promise<{ ort: number; reimport: number }> {
  const bytes = await st.onnx.toBytes(model);
  const ortMax = await ortDiff(model, bytes, xs);
  if (!reimports) return { ort: ortMax, reimport: 0 };
  const back = await st.onnx.load(bytes);
  const a = model.predict(xs.length === 1 ? xs[0] : xs) as st.Tensor;
  const b = back.predict(xs.length === 1 ? xs[0] : xs) as st.Tensor;
  const reimport = st.max(st.abs(st.sub(a, b))).item();
  return { ort: ortMax, reimport };
}

const measured: Record<string, { ort: number; reimport: number }> = {};
after(() => console.log(`onnx export max |strata - onnxruntime|: ${JSON.stringify(measured)}`));

describe('onnx export', () => {
  it('the Keras-book convnet (NHWC in and out, transposes only at the conv region)', async () => {
    st.setSeed(1);
    const model = st.sequential({
      layers: [
        st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
        st.layers.maxPooling2d({ poolSize: 2 }),
        st.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
        st.layers.maxPooling2d({ poolSize: 2 }),
        st.layers.conv2d({ filters: 128, kernelSize: 3, activation: 'relu' }),
        st.layers.flatten(),
        st.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    const r = await roundTrip(model, [st.randomUniform([3, 28, 28, 1], { seed: 2 })]);
    measured.convnet = r;
    const ops = (
      messages.model.toObject(messages.model.decode(await st.onnx.toBytes(model))) as { graph: { node: { opType: string }[] } }
    ).graph.node.map((n) => n.opType);
    assert.equal(ops.filter((op) => op === 'Transpose').length, 2, ops.join(' '));
    assert.ok(r.ort <= TOL && r.reimport <= TOL, JSON.stringify(r));
  });

  it('the MLP 784-512-10', async () => {
    st.setSeed(3);
    const model = st.sequential({
      layers: [st.layers.dense({ units: 512, activation: 'relu', inputShape: [784] }), st.layers.dense({ units: 10, activation: 'softmax' })],
    });
    const r = await roundTrip(model, [st.randomUniform([5, 784], { seed: 4 })]);
    measured.mlp = r;
    assert.ok(r.ort <= TOL && r.reimport <= TOL, JSON.stringify(r));
  });

  it('an LSTM model: embedding -> lstm (sequences) -> lstm and gru -> dense', async () => {
    st.setSeed(5);
    const ids = st.layers.input({ shape: [12], dtype: 'int32' });
    let h = st.layers.embedding({ inputDim: 30, outputDim: 8 }).apply(ids) as st.SymbolicTensor;
    h = st.layers.lstm({ units: 16, returnSequences: true }).apply(h) as st.SymbolicTensor;
    const a = st.layers.lstm({ units: 16 }).apply(h) as st.SymbolicTensor;
    const b = st.layers.gru({ units: 8 }).apply(h) as st.SymbolicTensor;
    const merged = st.layers.concatenate().apply([a, b]) as st.SymbolicTensor;
    const model = st.model({ inputs: ids, outputs: st.layers.dense({ units: 3 }).apply(merged) as st.SymbolicTensor });
    // Embeddings of order 1 (the default initializer's ±0.05 would leave the gates nearly linear).
    const table = model.layers[1];
    table.setWeights([uniform([30, 8], 15)]);
    const x = st.tensor(
      Int32Array.from({ length: 4 * 12 }, (_, i) => (i * 7 + 3) % 30),
      [4, 12],
      'int32',
    );
    const r = await roundTrip(model, [x]);
    measured.lstm = r;
    assert.ok(r.ort <= TOL && r.reimport <= TOL, JSON.stringify(r));
  });

  it('SimpleRNN (ONNX RNN; onnxruntime only: the importer does not read RNN)', async () => {
    st.setSeed(6);
    const model = st.sequential({
      layers: [st.layers.simpleRNN({ units: 5, returnSequences: true, inputShape: [7, 3] }), st.layers.gru({ units: 4, resetAfter: false })],
    });
    const r = await roundTrip(model, [uniform([2, 7, 3], 6)], false);
    measured.simpleRnn = r;
    assert.ok(r.ort <= TOL, JSON.stringify(r));
  });

  it('a transformer encoder block (Chollet): attention, residuals, layer norms, dense FFN', async () => {
    st.setSeed(7);
    const x = st.layers.input({ shape: [6, 16] });
    const attention = st.layers.multiHeadAttention({ numHeads: 2, keyDim: 16 }).apply(x) as st.SymbolicTensor;
    const y = st.layers.layerNormalization().apply(st.layers.add().apply([x, attention]) as st.SymbolicTensor) as st.SymbolicTensor;
    const ff = st.layers
      .dense({ units: 16 })
      .apply(st.layers.dense({ units: 32, activation: 'relu' }).apply(y) as st.SymbolicTensor) as st.SymbolicTensor;
    const out = st.layers.layerNormalization().apply(st.layers.add().apply([y, ff]) as st.SymbolicTensor) as st.SymbolicTensor;
    const model = st.model({ inputs: x, outputs: out });
    const r = await roundTrip(model, [uniform([3, 6, 16], 8)]);
    measured.transformer = r;
    assert.ok(r.ort <= TOL && r.reimport <= TOL, JSON.stringify(r));
    // The built-in TransformerEncoder layer exports the same block from its sublayers.
    const enc = st.sequential({
      layers: [st.layers.transformerEncoder({ embedDim: 16, denseDim: 32, numHeads: 2, inputShape: [6, 16] })],
    });
    const r2 = await roundTrip(enc, [uniform([3, 6, 16], 9)]);
    measured.transformerEncoderLayer = r2;
    assert.ok(r2.ort <= TOL && r2.reimport <= TOL, JSON.stringify(r2));
  });

  it('more layers: same padding, strides, dilation, depthwise, batch norm, pooling, merges, reshape, activations', async () => {
    st.setSeed(11);
    const x = st.layers.input({ shape: [9, 9, 3] });
    const c1 = st.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'gelu' }).apply(x) as st.SymbolicTensor;
    const c2 = st.layers.conv2d({ filters: 4, kernelSize: 2, dilationRate: 2, padding: 'same', activation: 'elu' }).apply(c1) as st.SymbolicTensor;
    const d = st.layers
      .depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'leakyRelu' })
      .apply(c2) as st.SymbolicTensor;
    const bn = st.layers.batchNormalization().apply(d) as st.SymbolicTensor;
    const p = st.layers.averagePooling2d({ poolSize: 2, padding: 'same' }).apply(bn) as st.SymbolicTensor;
    const q = st.layers.maxPooling2d({ poolSize: 2, padding: 'same' }).apply(bn) as st.SymbolicTensor;
    const s = st.layers.add().apply([p, q]) as st.SymbolicTensor;
    const m = st.layers.multiply().apply([s, st.layers.activation({ activation: 'hardSigmoid' }).apply(s) as st.SymbolicTensor]) as st.SymbolicTensor;
    const g = st.layers.globalAveragePooling2d().apply(m) as st.SymbolicTensor;
    const r = st.layers.reshape({ targetShape: [9, 8] }).apply(m) as st.SymbolicTensor; // [3, 3, 8] read in Strata's order
    const f = st.layers.flatten().apply(st.layers.activation({ activation: 'silu' }).apply(r) as st.SymbolicTensor) as st.SymbolicTensor;
    const out = st.layers.concatenate().apply([f, g, st.layers.globalMaxPooling2d().apply(c1) as st.SymbolicTensor]) as st.SymbolicTensor;
    const model = st.model({
      inputs: x,
      outputs: st.layers
        .dense({ units: 5, activation: 'tanh' })
        .apply(st.layers.dropout({ rate: 0.5 }).apply(out) as st.SymbolicTensor) as st.SymbolicTensor,
    });
    // Moving statistics other than 0 and 1, so the folded batch norm is checked.
    const bnLayer = model.layers.find((l) => l.constructor.name === 'BatchNormalization')!;
    bnLayer.setWeights(bnLayer.getWeights().map((w, i) => st.add(st.mul(uniform([...w.shape], 20 + i), 0.3), i === 3 ? 1 : 0)));
    const result = await roundTrip(model, [uniform([2, 9, 9, 3], 12)]);
    measured.zoo = result;
    assert.ok(result.ort <= TOL && result.reimport <= TOL, JSON.stringify(result));
  });

  it('several inputs and outputs (an input passed straight out included), in order', async () => {
    st.setSeed(27);
    const a = st.layers.input({ shape: [4] }),
      b = st.layers.input({ shape: [3] });
    const h = st.layers.concatenate().apply([a, b]) as st.SymbolicTensor;
    const model = st.model({ inputs: [a, b], outputs: [st.layers.dense({ units: 2 }).apply(h) as st.SymbolicTensor, a] });
    const session = await ort.InferenceSession.create(await st.onnx.toBytes(model));
    const xs = [uniform([2, 4], 28), uniform([2, 3], 29)];
    const feeds = Object.fromEntries(session.inputNames.map((n, i) => [n, new ort.Tensor('float32', xs[i].dataSync() as Float32Array, xs[i].shape)]));
    const results = await session.run(feeds);
    const want = model.predict(xs) as st.Tensor[];
    session.outputNames.forEach((n, i) => {
      const have = results[n].data as Float32Array;
      want[i].dataSync().forEach((v, j) => assert.ok(Math.abs(v - have[j]) <= TOL, `output ${i}`));
    });
  });

  it('st.applications (ResNet-18, MobileNetV2, DenseNet-121): one Transpose at the entry, residuals and concatenations stay NCHW', async () => {
    for (const [name, make] of [
      ['resNet18', st.applications.resNet18],
      ['mobileNetV2', st.applications.mobileNetV2],
      ['denseNet121', st.applications.denseNet121],
    ] as const) {
      st.setSeed(31);
      const model = make({ inputShape: [32, 32, 3], classes: 5, classifierActivation: 'linear' });
      const bytes = await st.onnx.toBytes(model);
      const ops = (messages.model.toObject(messages.model.decode(bytes)) as { graph: { node: { opType: string }[] } }).graph.node.map(
        (n) => n.opType,
      );
      assert.equal(ops.filter((op) => op === 'Transpose').length, 1, name);
      const diff = await ortDiff(model, bytes, [uniform([2, 32, 32, 3], 32)]);
      measured[name] = { ort: diff, reimport: 0 };
      assert.ok(diff <= TOL, `${name}: ${diff}`);
    }
  });

  it('every exportable activation, and the ReLU layer with a ceiling and a slope', async () => {
    const names = [
      'relu',
      'sigmoid',
      'tanh',
      'elu',
      'selu',
      'softplus',
      'softsign',
      'exponential',
      'linear',
      'softmax',
      'gelu',
      'leakyRelu',
      'relu6',
      'silu',
      'swish',
      'hardSigmoid',
      'mish',
    ];
    assert.deepEqual([...names].sort(), [...EXPORTABLE_ACTIVATIONS].sort());
    st.setSeed(33);
    const x = st.layers.input({ shape: [6] });
    // Inputs of a few units either side of 0 reach every branch (relu6's ceiling, hardSigmoid's clip).
    const scaled = st.layers.dense({ units: 6, kernelInitializer: 'ones', biasInitializer: 'zeros' }).apply(x) as st.SymbolicTensor;
    const outs = names.map((a) => st.layers.activation({ activation: a }).apply(scaled) as st.SymbolicTensor);
    outs.push(st.layers.reLU({ maxValue: 1.5, negativeSlope: 0.1 }).apply(scaled) as st.SymbolicTensor);
    const model = st.model({ inputs: x, outputs: st.layers.concatenate().apply(outs) as st.SymbolicTensor });
    const r = await roundTrip(model, [st.mul(uniform([4, 6], 34), 1.5)]);
    measured.activations = r;
    assert.ok(r.ort <= TOL && r.reimport <= TOL, JSON.stringify(r));
  });

  it('save writes a file that loads back', async () => {
    st.setSeed(13);
    const model = st.sequential({ layers: [st.layers.dense({ units: 3, inputShape: [4] })] });
    const path = join(dir, 'm.onnx');
    await st.onnx.save(model, path);
    const back = await st.onnx.load(readFileSync(path));
    const x = uniform([2, 4], 14);
    assert.ok(st.max(st.abs(st.sub(model.predict(x) as st.Tensor, back.predict(x) as st.Tensor))).item() <= TOL);
  });

  it('strata export DIR --onnx FILE writes the saved model as ONNX', async () => {
    st.setSeed(17);
    const model = st.sequential({ layers: [st.layers.dense({ units: 6, activation: 'relu', inputShape: [4] }), st.layers.dense({ units: 2 })] });
    const runDir = join(dir, 'run');
    await model.save(runDir);
    const file = join(dir, 'run.onnx');
    const lines: string[] = [];
    await exportCommand(runDir, { onnx: file }, (l) => lines.push(l));
    assert.match(lines[0], /2 parameters|parameters, inputs \[N, 4\], outputs \[N, 2\]; ONNX \(opset 17\) written to/);
    assert.ok((await ortDiff(model, readFileSync(file), [uniform([3, 4], 18)])) <= TOL);
    await assert.rejects(exportCommand(runDir, {}), /--onnx FILE/);
  });

  it('a layer that cannot be exported is a ValueError naming every such layer, its class and why', async () => {
    const x = st.layers.input({ shape: [5, 3] });
    const h = st.layers.lstm({ units: 2, goBackwards: true, returnSequences: true }).apply(x) as st.SymbolicTensor;
    const model = st.model({ inputs: x, outputs: st.layers.gru({ units: 2, activation: 'softsign' }).apply(h) as st.SymbolicTensor });
    await assert.rejects(st.onnx.toBytes(model), (err: Error) => {
      assert.ok(err instanceof st.ValueError);
      assert.match(err.message, /2 layers cannot be exported/);
      assert.match(err.message, /layer 'lstm\w*' \(LSTM\): goBackwards: true is not exported/);
      assert.match(err.message, /layer 'gru\w*' \(GRU\): activation "softsign" is not exported/);
      return true;
    });
    // A padding mask reaching a layer whose exported form would ignore it.
    const ids = st.layers.input({ shape: [5] });
    const e = st.layers.embedding({ inputDim: 10, outputDim: 4, maskZero: true }).apply(ids) as st.SymbolicTensor;
    const masked = st.model({ inputs: ids, outputs: st.layers.lstm({ units: 2 }).apply(e) as st.SymbolicTensor });
    await assert.rejects(st.onnx.toBytes(masked), /layer 'lstm\w*' \(LSTM\): receives the padding mask of an embedding with maskZero/);
    const cropped = st.sequential({ layers: [st.layers.randomCrop({ height: 2, width: 2, inputShape: [4, 4, 1] })] });
    await assert.rejects(st.onnx.toBytes(cropped), /\(RandomCrop\): ONNX export has no mapping for this layer class/);
  });

  it('1-D convolution and pooling (causal, dilated, same), bidirectional LSTM and GRU', async () => {
    st.setSeed(19);
    const x = st.layers.input({ shape: [10, 3] });
    let h = st.layers.conv1d({ filters: 4, kernelSize: 3, padding: 'causal', dilationRate: 2, activation: 'relu' }).apply(x) as st.SymbolicTensor;
    h = st.layers.conv1d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same' }).apply(h) as st.SymbolicTensor;
    h = st.layers.maxPooling1d({ poolSize: 2, strides: 1, padding: 'same' }).apply(h) as st.SymbolicTensor;
    h = st.layers.averagePooling1d({ poolSize: 2, strides: 1 }).apply(h) as st.SymbolicTensor;
    const seq = st.layers.bidirectional({ layer: st.layers.lstm({ units: 3, returnSequences: true }) }).apply(h) as st.SymbolicTensor;
    const last = st.layers.bidirectional({ layer: st.layers.gru({ units: 2 }) }).apply(seq) as st.SymbolicTensor;
    const pooled = st.layers.globalAveragePooling1d().apply(seq) as st.SymbolicTensor;
    const maxed = st.layers.globalMaxPooling1d().apply(h) as st.SymbolicTensor;
    const model = st.model({ inputs: x, outputs: st.layers.concatenate().apply([last, pooled, maxed]) as st.SymbolicTensor });
    const r = await roundTrip(model, [uniform([2, 10, 3], 20)]);
    measured.sequence1d = r;
    assert.ok(r.ort <= TOL && r.reimport <= TOL, JSON.stringify(r));
  });

  it('transposed convolutions (valid, same, kernel < stride, outputPadding, dilation) and a nested model', async () => {
    st.setSeed(23);
    const inner = st.sequential({
      layers: [
        st.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', inputShape: [5, 4, 2] }),
        st.layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 3, padding: 'valid' }),
      ],
    });
    const x = st.layers.input({ shape: [5, 4, 2] });
    const a = inner.apply(x) as st.SymbolicTensor;
    const b = st.layers
      .conv2dTranspose({ filters: 2, kernelSize: [3, 4], strides: 2, padding: 'same', outputPadding: 1 })
      .apply(x) as st.SymbolicTensor;
    const c = st.layers.conv2dTranspose({ filters: 2, kernelSize: 2, dilationRate: 2, padding: 'valid' }).apply(x) as st.SymbolicTensor;
    const flat = [a, b, c].map((t) => st.layers.flatten().apply(t) as st.SymbolicTensor);
    const model = st.model({ inputs: x, outputs: st.layers.concatenate().apply(flat) as st.SymbolicTensor });
    const r = await roundTrip(model, [uniform([2, 5, 4, 2], 24)]);
    measured.convTranspose = r;
    assert.ok(r.ort <= TOL && r.reimport <= TOL, JSON.stringify(r));
  });

  it("Chollet's text transformer (positional embedding, encoder, pooling), TimeDistributed, UnitNormalization", async () => {
    st.setSeed(25);
    const ids = st.layers.input({ shape: [8] });
    let h = st.layers.positionalEmbedding({ sequenceLength: 8, inputDim: 40, outputDim: 12, maskZero: false }).apply(ids) as st.SymbolicTensor;
    h = st.layers.transformerEncoder({ embedDim: 12, denseDim: 16, numHeads: 3 }).apply(h) as st.SymbolicTensor;
    const steps = st.layers.timeDistributed({ layer: st.layers.dense({ units: 4, activation: 'tanh' }) }).apply(h) as st.SymbolicTensor;
    const unit = st.layers.unitNormalization().apply(st.layers.globalMaxPooling1d().apply(steps) as st.SymbolicTensor) as st.SymbolicTensor;
    const pooled = st.layers.globalAveragePooling1d().apply(h) as st.SymbolicTensor;
    const model = st.model({ inputs: ids, outputs: st.layers.concatenate().apply([unit, pooled]) as st.SymbolicTensor });
    const x = st.tensor(
      Float32Array.from({ length: 3 * 8 }, (_, i) => (i * 11 + 1) % 40),
      [3, 8],
    );
    const r = await roundTrip(model, [x]);
    measured.textTransformer = r;
    assert.ok(r.ort <= TOL && r.reimport <= TOL, JSON.stringify(r));
  });

  it("Chollet's text classifier with its padding mask (maskZero: masked attention and masked average)", async () => {
    st.setSeed(35);
    const ids = st.layers.input({ shape: [8] });
    let h = st.layers.positionalEmbedding({ sequenceLength: 8, inputDim: 40, outputDim: 12 }).apply(ids) as st.SymbolicTensor;
    h = st.layers.transformerEncoder({ embedDim: 12, denseDim: 16, numHeads: 2 }).apply(h) as st.SymbolicTensor;
    h = st.layers.dense({ units: 12 }).apply(h) as st.SymbolicTensor;
    const pooled = [st.layers.globalAveragePooling1d().apply(h) as st.SymbolicTensor, st.layers.globalMaxPooling1d().apply(h) as st.SymbolicTensor];
    const merged = st.layers.concatenate().apply(pooled) as st.SymbolicTensor;
    const model = st.model({ inputs: ids, outputs: st.layers.dense({ units: 1, activation: 'sigmoid' }).apply(merged) as st.SymbolicTensor });
    // Sequences padded with zeros at the end, one of them not at all.
    const rows = [
      [5, 3, 9, 0, 0, 0, 0, 0],
      [1, 2, 3, 4, 5, 6, 7, 8],
      [39, 12, 0, 0, 0, 0, 0, 0],
    ];
    const r = await roundTrip(model, [st.tensor(rows)]);
    measured.maskedText = r;
    assert.ok(r.ort <= TOL && r.reimport <= TOL, JSON.stringify(r));
  });

  it('image shaping: rescaling, zero padding, separable conv, upsampling, cropping', async () => {
    st.setSeed(21);
    const model = st.sequential({
      layers: [
        st.layers.rescaling({ scale: 0.5, offset: 0.1, inputShape: [7, 7, 3] }),
        st.layers.zeroPadding2d({
          padding: [
            [1, 2],
            [0, 1],
          ],
        }),
        st.layers.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu' }),
        st.layers.upSampling2d({ size: 2 }),
        st.layers.groupNormalization({ groups: 2 }),
        st.layers.cropping2d({
          cropping: [
            [1, 0],
            [2, 1],
          ],
        }),
        st.layers.flatten(),
        st.layers.dense({ units: 3 }),
      ],
    });
    const r = await roundTrip(model, [uniform([2, 7, 7, 3], 22)]);
    measured.imageShaping = r;
    assert.ok(r.ort <= TOL && r.reimport <= TOL, JSON.stringify(r));
  });
});
