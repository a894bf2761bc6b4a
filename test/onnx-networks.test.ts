// Real exported networks (scripts/make_onnx_fixtures.py): st.onnx.load must reproduce PyTorch's
// outputs to 1e-4 and fine-tune them. The small LSTM model is committed; ResNet-18 and
// MobileNetV2 (14 and 47 MB) run when the script has written them to node_modules/.cache.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { decodeTensor } from '../src/interop/onnx/decode.js';
import { toStrata } from '../src/interop/onnx/tensors.js';

const root = new URL('../', import.meta.url).pathname;
const SMALL = join(root, 'test/fixtures/onnx');
const BIG = join(root, 'node_modules/.cache/strata-onnx-fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'strata-onnx-net-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function check(dir: string, name: string, epochs: number, learningRate: number): Promise<st.Model> {
  const model = await st.onnx.load(join(dir, `${name}.onnx`));
  const x = toStrata(decodeTensor(readFileSync(join(dir, `${name}.input_0.pb`)), 'input'), 'input');
  const expected = decodeTensor(readFileSync(join(dir, `${name}.output_0.pb`)), 'output');
  const y = model.predict(x) as st.Tensor;
  assert.deepEqual(y.shape, expected.shape);
  const got = await y.data();
  let err = 0;
  for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - expected.data[i]));
  assert.ok(err <= 1e-4, `${name}: max abs error ${err}`);
  // Fine-tuning: every floating initializer is a trainable weight (Note [Fine-tuning an imported model]).
  assert.ok(model.trainableWeights.length > 0);
  st.setSeed(3);
  const target = y.add(st.randomNormal(y.shape, { stddev: 0.1 }));
  model.compile({ optimizer: st.optimizers.sgd({ learningRate }), loss: 'meanSquaredError' });
  const history = await model.fit(x, target, { epochs, batchSize: x.shape[0], verbose: 0, shuffle: false });
  const losses = history.history.loss as number[];
  assert.ok(losses[losses.length - 1] < losses[0], `${name}: loss ${losses.join(', ')}`);
  return model;
}

describe('exported networks', () => {
  it('a small LSTM model matches PyTorch, fine-tunes, and saves and loads', async () => {
    const model = await check(SMALL, 'lstm', 10, 0.5);
    // The batch size is symbolic in this export: other sizes run too (Note [Shapes the graph computes]).
    assert.deepEqual((model.predict(st.randomNormal([3, 5, 8])) as st.Tensor).shape, [3, 3]);
    await model.save(join(tmp, 'lstm'));
    const loaded = await st.loadModel(join(tmp, 'lstm'));
    const x = st.randomNormal([2, 5, 8]);
    assert.deepEqual(Array.from(await (loaded.predict(x) as st.Tensor).data()), Array.from(await (model.predict(x) as st.Tensor).data()));
  });

  for (const name of ['mobilenet_v2', 'resnet18']) {
    const present = existsSync(join(BIG, `${name}.onnx`));
    it(`torchvision's ${name} matches PyTorch and fine-tunes`, {
      skip: !present && `run /usr/bin/python3 scripts/make_onnx_fixtures.py to export ${name}`,
    }, async () => {
      await check(BIG, name, 2, 1e-3);
    });
  }
});
