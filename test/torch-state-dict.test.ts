// st.torch: PyTorch state dicts (safetensors) into Strata models and back. The fixtures come from
// scripts/make_torch_state_dict_fixtures.py: a small convnet is committed; torchvision's
// ResNet-18 (45 MB) is checked when the script has written it to node_modules/.cache. The reverse
// direction runs PyTorch itself (the script's --load mode) when /usr/bin/python3 has torch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';

const root = new URL('../', import.meta.url).pathname;
const SMALL = join(root, 'test/fixtures/torch-state-dict');
const BIG = join(root, 'node_modules/.cache/strata-torch-fixtures');
const SCRIPT = join(root, 'scripts/make_torch_state_dict_fixtures.py');
const tmp = mkdtempSync(join(tmpdir(), 'strata-torch-sd-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0;
const noTorch = !torchAvailable && '/usr/bin/python3 with torch and torchvision is not available';

/** The committed small network of the script, in Strata (BN epsilon as PyTorch's). */
function smallModel(): st.Model {
  return st.sequential({
    layers: [
      st.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', inputShape: [8, 8, 3] }),
      st.layers.batchNormalization({ epsilon: 1e-5 }),
      st.layers.activation({ activation: 'relu' }),
      st.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu' }),
      st.layers.globalAveragePooling2d(),
      st.layers.dense({ units: 12, activation: 'relu' }),
      st.layers.dense({ units: 4 }),
    ],
  });
}
/** The names of a model's layers with weights, in order. */
const weighted = (model: st.Model): string[] => model.layers.filter((l) => l.weights.length > 0).map((l) => l.name);

/** PyTorch's module names of the small network's layers with weights. */
const SMALL_MODULES = ['0', '1', '3', '7', '9'];

/** The fixed input (images NCHW there, NHWC here) and PyTorch's output. */
function io(dir: string, name: string): { x: st.Tensor; y: st.Tensor } {
  const { tensors } = decodeSafetensors(readFileSync(join(dir, `${name}-io.safetensors`)), name);
  const x = tensors.get('x')!;
  return { x: x.rank === 4 ? st.transpose(x, [0, 2, 3, 1]) : x, y: tensors.get('y')! };
}

/** The fixtures' LSTM + GRU model in Strata (PyTorch's GRU is Keras's resetAfter form, the default). */
function sequenceModel(): st.Model {
  return st.sequential({
    layers: [st.layers.lstm({ units: 6, returnSequences: true, inputShape: [7, 5] }), st.layers.gru({ units: 4 }), st.layers.dense({ units: 3 })],
  });
}

async function maxDiff(a: st.Tensor, b: st.Tensor): Promise<number> {
  assert.deepEqual(a.shape, b.shape);
  const [u, v] = [Array.from(await a.data()), Array.from(await b.data())];
  return u.reduce((m, x, i) => Math.max(m, Math.abs(x - v[i])), 0);
}

/** Runs PyTorch on `weights` (written by Strata) and tensor x (NCHW) of a file; its output. */
function torchOutput(model: 'small' | 'flat' | 'sequence' | 'stacked' | 'resnet18', weights: string, x: st.Tensor): st.Tensor {
  const input = join(tmp, `${model}-x.safetensors`);
  writeFileSync(input, encodeSafetensors([{ name: 'x', tensor: x.rank === 4 ? st.transpose(x, [0, 3, 1, 2]) : x }]));
  const run = spawnSync('/usr/bin/python3', [SCRIPT, '--load', model, weights, input], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { shape: number[]; data: number[] };
  return st.tensor(Float32Array.from(out.data), out.shape);
}

/** Safetensors bytes written by hand, for dtypes Strata's encoder does not write. */
function rawFile(entries: { name: string; dtype: string; shape: number[]; data: Uint8Array }[]): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + e.data.byteLength] };
    at += e.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let p = 8 + json.byteLength;
  for (const e of entries) {
    out.set(e.data, p);
    p += e.data.byteLength;
  }
  return out;
}

describe('st.torch: PyTorch state dicts', () => {
  it('a small convnet saved by PyTorch gives PyTorch outputs (conv, BN, depthwise, linear; by order)', async (t) => {
    const model = smallModel();
    const result = await st.torch.loadStateDict(model, join(SMALL, 'small.safetensors'));
    assert.equal(result.loaded.length, 12); // 2 + 4 + 2 + 2 + 2; num_batches_tracked skipped
    assert.deepEqual(result.unmatched, []);
    const { x, y } = io(SMALL, 'small');
    const diff = await maxDiff(model.predict(x) as st.Tensor, y);
    assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
    t.diagnostic(`small convnet, PyTorch -> Strata: max abs difference ${diff}`);
    // The same by an explicit mapping: module names to layer names, and one tensor by weight path.
    const named = smallModel();
    const mapping: Record<string, string> = Object.fromEntries(SMALL_MODULES.map((m, i) => [m, weighted(named)[i]]));
    mapping['9.weight'] = `${weighted(named)[4]}/kernel`;
    await st.torch.loadStateDict(named, readFileSync(join(SMALL, 'small.safetensors')), { mapping });
    assert.equal(await maxDiff(named.predict(x) as st.Tensor, model.predict(x) as st.Tensor), 0);
    // And by a function of the tensor name.
    const byFunction = smallModel();
    const layerOf = (name: string) => weighted(byFunction)[SMALL_MODULES.indexOf(name.slice(0, name.lastIndexOf('.')))];
    await st.torch.loadStateDict(byFunction, join(SMALL, 'small.safetensors'), { mapping: layerOf });
    assert.equal(await maxDiff(byFunction.predict(x) as st.Tensor, model.predict(x) as st.Tensor), 0);
  });

  it('stateDict gives PyTorch names, layouts and order, the inverse of loadStateDict', async () => {
    const model = smallModel();
    await st.torch.loadStateDict(model, join(SMALL, 'small.safetensors'));
    const written = st.torch.stateDict(model, { moduleNames: SMALL_MODULES });
    const original = decodeSafetensors(readFileSync(join(SMALL, 'small.safetensors')), 'small', null, {
      skip: (n) => n.endsWith('num_batches_tracked'),
    });
    assert.deepEqual(
      written.map((w) => w.name),
      original.order,
    );
    for (const { name, tensor } of written) assert.equal(await maxDiff(tensor, original.tensors.get(name)!), 0, name);
  });

  it('a Strata model saved with saveStateDict loads into the PyTorch module with the same outputs', { skip: noTorch }, async (t) => {
    st.setSeed(7);
    const model = smallModel();
    const bn = model.layers.find((l) => l.className === 'BatchNormalization')!;
    bn.setWeights([
      st.randomUniform([8], { min: 0.5, max: 1.5 }),
      st.randomNormal([8]),
      st.randomNormal([8]),
      st.randomUniform([8], { min: 0.5, max: 1.5 }),
    ]);
    const path = join(tmp, 'strata-small.safetensors');
    await st.torch.saveStateDict(model, path, { moduleNames: SMALL_MODULES });
    const x = st.randomNormal([3, 8, 8, 3], { seed: 11 });
    const diff = await maxDiff(torchOutput('small', path, x), model.predict(x) as st.Tensor);
    assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
    t.diagnostic(`small convnet, Strata -> PyTorch: max abs difference ${diff}`);
  });

  it('an LSTM and a GRU saved by PyTorch give its outputs, and go back (gates reordered, biases summed)', async (t) => {
    const model = sequenceModel();
    const result = await st.torch.loadStateDict(model, join(SMALL, 'sequence.safetensors'));
    assert.deepEqual(result.loaded, [
      'lstm.weight_ih_l0',
      'lstm.weight_hh_l0',
      'lstm.bias_ih_l0',
      'lstm.bias_hh_l0',
      'gru.weight_ih_l0',
      'gru.weight_hh_l0',
      'gru.bias_ih_l0',
      'gru.bias_hh_l0',
      'head.weight',
      'head.bias',
    ]);
    const { x, y } = io(SMALL, 'sequence');
    const diff = await maxDiff(model.predict(x) as st.Tensor, y);
    assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
    t.diagnostic(`LSTM + GRU, PyTorch -> Strata: max abs difference ${diff}`);
    // Saved: PyTorch's names; the LSTM's one bias goes out as bias_ih_l0 with zeros as bias_hh_l0.
    const written = st.torch.stateDict(model, { moduleNames: ['lstm', 'gru', 'head'] });
    assert.deepEqual(
      written.map((w) => w.name),
      result.loaded,
    );
    assert.equal(await maxDiff(written[3].tensor, st.zeros([24])), 0);
    if (!torchAvailable) return;
    const path = join(tmp, 'strata-sequence.safetensors');
    await st.torch.saveStateDict(model, path, { moduleNames: ['lstm', 'gru', 'head'] });
    const back = await maxDiff(torchOutput('sequence', path, x), y);
    assert.ok(back <= 1e-5, `round trip: max abs difference ${back}`);
    t.diagnostic(`LSTM + GRU, Strata -> PyTorch: max abs difference ${back}`);
  });

  it('a two-level bidirectional LSTM and a two-level GRU (one torch module each) load level by level, and go back', async (t) => {
    // nn.LSTM(5, 6, num_layers=2, bidirectional=True) is two Bidirectional(LSTM) layers here,
    // nn.GRU(12, 4, num_layers=2) two GRUs (Note [Stacked and bidirectional recurrent modules]).
    const stacked = () =>
      st.sequential({
        layers: [
          st.layers.bidirectional({ layer: st.layers.lstm({ units: 6, returnSequences: true }), inputShape: [7, 5] }),
          st.layers.bidirectional({ layer: st.layers.lstm({ units: 6, returnSequences: true }) }),
          st.layers.gru({ units: 4, returnSequences: true }),
          st.layers.gru({ units: 4 }),
          st.layers.dense({ units: 3 }),
        ],
      });
    const model = stacked();
    const result = await st.torch.loadStateDict(model, join(SMALL, 'stacked.safetensors'));
    assert.deepEqual(result.unmatched, []);
    assert.equal(result.loaded.length, 2 * 2 * 4 + 2 * 4 + 2);
    const { x, y } = io(SMALL, 'stacked');
    const diff = await maxDiff(model.predict(x) as st.Tensor, y);
    assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
    t.diagnostic(`2-level bidirectional LSTM + 2-level GRU, PyTorch -> Strata: max abs difference ${diff}`);
    // Each level is the module `<name>@l<k>`: saving under those names gives PyTorch's own names back.
    const moduleNames = ['lstm', 'lstm@l1', 'gru', 'gru@l1', 'head'];
    const written = st.torch.stateDict(model, { moduleNames });
    assert.deepEqual(
      written.map((w) => w.name),
      result.loaded,
    );
    // A record mapping names the levels the same way; a fresh model loads through it.
    const byName = stacked();
    const [b1, b2, g1, g2, head] = byName.layers.map((l) => l.name);
    await st.torch.loadStateDict(byName, join(SMALL, 'stacked.safetensors'), {
      mapping: { lstm: b1, 'lstm@l1': b2, gru: g1, 'gru@l1': g2, head },
    });
    assert.equal(await maxDiff(byName.predict(x) as st.Tensor, y), diff);
    if (!torchAvailable) return;
    const path = join(tmp, 'strata-stacked.safetensors');
    await st.torch.saveStateDict(model, path, { moduleNames });
    const back = await maxDiff(torchOutput('stacked', path, x), y);
    assert.ok(back <= 1e-5, `round trip: max abs difference ${back}`);
    t.diagnostic(`2-level bidirectional LSTM + 2-level GRU, Strata -> PyTorch: max abs difference ${back}`);
  });

  it("a Linear after PyTorch's channels-first Flatten gets its rows permuted, both ways", async (t) => {
    const model = st.sequential({
      layers: [
        st.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 2] }),
        st.layers.maxPooling2d({ poolSize: 2 }),
        st.layers.flatten(),
        st.layers.dense({ units: 5 }),
      ],
    });
    await st.torch.loadStateDict(model, join(SMALL, 'flat.safetensors'));
    const { x, y } = io(SMALL, 'flat');
    const diff = await maxDiff(model.predict(x) as st.Tensor, y);
    assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
    t.diagnostic(`conv + Flatten + Linear, PyTorch -> Strata: max abs difference ${diff}`);
    const original = decodeSafetensors(readFileSync(join(SMALL, 'flat.safetensors')), 'flat');
    const written = st.torch.stateDict(model, { moduleNames: ['0', '4'] });
    for (const { name, tensor } of written) assert.equal(await maxDiff(tensor, original.tensors.get(name)!), 0, name);
    if (!torchAvailable) return;
    const path = join(tmp, 'strata-flat.safetensors');
    await st.torch.saveStateDict(model, path, { moduleNames: ['0', '4'] });
    const back = await maxDiff(torchOutput('flat', path, x), y);
    assert.ok(back <= 1e-5, `round trip: max abs difference ${back}`);
  });

  it("st.applications.resNet34 has exactly torchvision's resnet34 names and shapes", { skip: noTorch }, () => {
    const code =
      'import json, torchvision; sd = torchvision.models.resnet34(weights=None).state_dict(); ' +
      "print(json.dumps({k: list(v.shape) for k, v in sd.items() if not k.endswith('num_batches_tracked')}))";
    const run = spawnSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const expected = JSON.parse(run.stdout) as Record<string, number[]>;
    const written = st.torch.stateDict(st.applications.resNet34({ classifierActivation: null }));
    const got = Object.fromEntries(written.map((e) => [e.name, [...e.tensor.shape]]));
    assert.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort());
    assert.deepEqual(got, expected);
  });

  const resnetPresent = existsSync(join(BIG, 'resnet18.safetensors'));
  it("torchvision's resnet18 loads into st.applications.resNet18 and back into PyTorch", {
    skip: !resnetPresent && 'run /usr/bin/python3 scripts/make_torch_state_dict_fixtures.py to write ResNet-18 (45 MB) into node_modules/.cache',
  }, async (t) => {
    const model = st.applications.resNet18({ classifierActivation: null });
    const result = await st.torch.loadStateDict(model, join(BIG, 'resnet18.safetensors'));
    assert.equal(result.loaded.length, 102); // 62 parameters and 40 running statistics
    const { x, y } = io(BIG, 'resnet18');
    const diff = await maxDiff(model.predict(x) as st.Tensor, y);
    assert.ok(diff <= 1e-4, `max abs difference ${diff}`);
    t.diagnostic(`resnet18, PyTorch -> Strata: max abs difference ${diff} (outputs up to ${(await y.abs().max().data())[0]})`);
    if (!torchAvailable) return;
    const path = join(tmp, 'strata-resnet18.safetensors');
    await st.torch.saveStateDict(model, path);
    const back = await maxDiff(torchOutput('resnet18', path, x), y);
    assert.ok(back <= 1e-5, `round trip: max abs difference ${back}`);
    t.diagnostic(`resnet18, Strata -> PyTorch: max abs difference ${back} from PyTorch's own output`);
  });
});

describe('st.torch: errors', () => {
  const file = join(SMALL, 'small.safetensors');

  it('tensors with no destination and weights left unfilled are listed together', async () => {
    const model = smallModel();
    const layers = weighted(model);
    const mapping = Object.fromEntries(SMALL_MODULES.slice(0, 4).map((m, i) => [m, layers[i]]));
    await assert.rejects(st.torch.loadStateDict(model, file, { mapping }), (e: Error) => {
      assert.ok(e instanceof st.ValueError);
      assert.match(e.message, /small\.safetensors: cannot load the PyTorch state dict into model '.*' \(4 problems\)/);
      assert.match(e.message, /tensor '9\.weight' \[4, 12\] has no destination/);
      assert.match(e.message, /tensor '9\.bias' \[4\] has no destination/);
      assert.match(e.message, new RegExp(`Strata weight '${layers[4]}/kernel' \\[12, 4\\] receives no tensor`));
      return true;
    });
    // strict: false loads what matches and reports the rest.
    const result = await st.torch.loadStateDict(model, file, { mapping, strict: false });
    assert.equal(result.loaded.length, 10);
    assert.equal(result.unmatched.length, 4);
  });

  it('shapes that disagree after conversion are a ShapeError naming both shapes', async () => {
    const model = st.sequential({
      layers: [
        st.layers.conv2d({ filters: 8, kernelSize: 5, padding: 'same', inputShape: [8, 8, 3] }),
        st.layers.batchNormalization(),
        st.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }),
        st.layers.globalAveragePooling2d(),
        st.layers.dense({ units: 12 }),
        st.layers.dense({ units: 5 }),
      ],
    });
    await assert.rejects(st.torch.loadStateDict(model, file), (e: Error) => {
      assert.ok(e instanceof st.ShapeError, e.message);
      assert.match(e.message, /\(3 problems\)/);
      assert.match(
        e.message,
        /tensor '0\.weight' \[8, 3, 3, 3\] maps to Strata weight '.*\/kernel' \[5, 5, 3, 8\], which PyTorch stores as \[8, 3, 5, 5\]; expected \[8, 3, 5, 5\], received \[8, 3, 3, 3\]/,
      );
      assert.match(e.message, /tensor '9\.weight' \[4, 12\] .* expected \[5, 12\], received \[4, 12\]/);
      assert.match(e.message, /tensor '9\.bias' \[4\] .* expected \[5\], received \[4\]/);
      return true;
    });
  });

  it('more modules than layers, a layer without a PyTorch layout, two tensors for one weight', async () => {
    const short = st.sequential({ layers: [st.layers.conv2d({ filters: 8, kernelSize: 3, inputShape: [8, 8, 3] })] });
    await assert.rejects(
      st.torch.loadStateDict(short, file),
      /module '1' is number 2 in the file's order, but the model has only 1 layers with weights/,
    );
    const rnn = st.sequential({ layers: [st.layers.gru({ units: 2, resetAfter: false, inputShape: [3, 4] })] });
    await assert.rejects(st.torch.loadStateDict(rnn, file), /a GRU, whose PyTorch layout Strata does not know/);
    const model = smallModel();
    const conv = model.layers[0].name;
    await assert.rejects(
      st.torch.loadStateDict(model, file, { mapping: { '0': conv, '1.weight': `${conv}/bias` }, strict: false }),
      /tensor '1\.weight' \[8\] and tensor '0\.bias' both map to Strata weight '.*\/bias'/,
    );
  });

  it('damaged files and bad arguments', async () => {
    const model = smallModel();
    const bytes = readFileSync(file);
    await assert.rejects(
      st.torch.loadStateDict(model, bytes.subarray(0, bytes.length - 3)),
      (e: Error) => e instanceof st.FormatError && /state dict bytes: .*truncated/.test(e.message),
    );
    await assert.rejects(
      st.torch.loadStateDict(model, join(tmp, 'absent.safetensors')),
      /absent\.safetensors: cannot read the state dict \(no such file\)/,
    );
    const i64 = rawFile([{ name: '0.weight', dtype: 'I64', shape: [1], data: new Uint8Array(8) }]);
    await assert.rejects(st.torch.loadStateDict(model, i64), /tensor "0\.weight" has dtype I64, which Strata cannot load/);
    await assert.rejects(
      st.torch.loadStateDict(model, file, { mapping: 'names' as never }),
      /mapping must be 'auto', 'torchvision', 'order', an object of names or a function; received "names"/,
    );
    await assert.rejects(st.torch.loadStateDict(model, file, { strict: 1 as never }), /strict must be a boolean; received 1/);
    const unbuilt = st.sequential({ layers: [st.layers.dense({ units: 2 })] });
    await assert.rejects(st.torch.loadStateDict(unbuilt, file), /has no weights yet; build it first/);
    assert.throws(() => st.torch.stateDict(model, { mapping: ((n: string) => n) as never }), /a function mapping only loads/);
    assert.throws(
      () => st.torch.stateDict(model, { moduleNames: ['0'] }),
      /moduleNames must list one PyTorch module name per layer with weights \(5: .*\); received \["0"\]/,
    );
    const rnn = st.sequential({ layers: [st.layers.simpleRNN({ units: 2, inputShape: [3, 4] })] });
    assert.throws(() => st.torch.stateDict(rnn), /layer '.*' is a SimpleRNN, whose PyTorch layout Strata does not know/);
    // An LSTM's bias is two PyTorch tensors: one of them alone leaves it unfilled.
    const lstm = st.sequential({ layers: [st.layers.lstm({ units: 2, inputShape: [3, 4] })] });
    const parts = encodeSafetensors(st.torch.stateDict(lstm, { moduleNames: ['rnn'] }).filter((e) => e.name !== 'rnn.bias_hh_l0'));
    await assert.rejects(st.torch.loadStateDict(lstm, parts), /Strata weight '.*\/bias' \[8\] lacks its PyTorch part 'bias_hh_l0'/);
  });

  it('F16, BF16 and F64 tensors load as float32', async () => {
    const model = st.sequential({ layers: [st.layers.dense({ units: 2, inputShape: [2] })] });
    // weight [[1, -2], [0.5, 3]] (torch's [out, in]) in F16 bits; bias [0.25, -1] in BF16 bits.
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x4200]);
    const bf16 = new Uint16Array([0x3e80, 0xbf80]);
    await st.torch.loadStateDict(
      model,
      rawFile([
        { name: 'fc.weight', dtype: 'F16', shape: [2, 2], data: new Uint8Array(f16.buffer) },
        { name: 'fc.bias', dtype: 'BF16', shape: [2], data: new Uint8Array(bf16.buffer) },
      ]),
    );
    assert.deepEqual(await model.getWeights()[0].array(), [
      [1, 0.5],
      [-2, 3],
    ]);
    assert.deepEqual(await model.getWeights()[1].array(), [0.25, -1]);
    const f64 = new Float64Array([1.5, 2, 3, 4, 5, 6]);
    await st.torch.loadStateDict(
      model,
      rawFile([
        { name: 'w', dtype: 'F64', shape: [2, 2], data: new Uint8Array(f64.buffer, 0, 32) },
        { name: 'b', dtype: 'F64', shape: [2], data: new Uint8Array(f64.buffer, 32, 16) },
      ]),
      { mapping: { w: `${model.layers[0].name}/kernel`, b: `${model.layers[0].name}/bias` } },
    );
    assert.deepEqual(await model.getWeights()[0].array(), [
      [1.5, 3],
      [2, 4],
    ]);
    assert.equal(model.getWeights()[0].dtype, 'float32');
  });
});
