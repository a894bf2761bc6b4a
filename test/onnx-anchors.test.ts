// Imported graphs whose outputs or inputs fall outside a Strata model's shape (Note [Anchored
// values] in build.ts): an output known at import, and an input that no output reads.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { messages } from '../src/interop/onnx/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-onnx-anchors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Json = Record<string, unknown>;
const valueInfo = (name: string, dims: (number | string)[], elemType = 1): Json => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});
const encode = (graph: Json) =>
  messages.model.encode(messages.model.fromObject({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph })).finish();

describe('st.onnx.load: anchored values', () => {
  it('an output folded from constants is returned on every call, and survives save/load', async () => {
    const bytes = encode({
      name: 'const-out',
      node: [
        { opType: 'Relu', input: ['x'], output: ['y'], name: 'relu' },
        { opType: 'Add', input: ['c', 'c'], output: ['k'], name: 'twice' },
      ],
      initializer: [{ name: 'c', dims: [3], dataType: 1, floatData: [1, -2, 3] }],
      input: [valueInfo('x', ['N', 2])],
      output: [valueInfo('y', ['N', 2]), valueInfo('k', [3])],
    });
    const model = await st.onnx.load(bytes);
    for (let i = 0; i < 2; i++) {
      const [y, k] = model.predict(st.tensor([[-1, 2]])) as st.Tensor[];
      assert.deepEqual(Array.from(await y.data()), [0, 2]);
      assert.deepEqual(Array.from(await k.data()), [2, -4, 6]);
      // The caller owns what predict returns: disposing it leaves the model whole.
      y.dispose();
      k.dispose();
    }
    await model.save(join(dir, 'const-out'));
    const loaded = await st.loadModel(join(dir, 'const-out'));
    const [, k] = loaded.predict(st.tensor([[1, 1]])) as st.Tensor[];
    assert.deepEqual(Array.from(await k.data()), [2, -4, 6]);
  });

  it('an input no output reads is still an input of the model', async () => {
    const bytes = encode({
      name: 'unused',
      node: [{ opType: 'Cast', input: ['x'], output: ['y'], name: 'cast', attribute: [{ name: 'to', type: 2, i: 10 }] }],
      input: [valueInfo('x', [1, 2]), valueInfo('like', [1, 1], 10)],
      output: [valueInfo('y', [1, 2], 10)],
    });
    const model = await st.onnx.load(bytes);
    assert.equal(model.inputs.length, 2);
    // Cast to float16 keeps the values a float16 holds: 1/3 becomes 0.333251953125.
    const y = model.predict([st.tensor([[1 / 3, 70000]]), st.tensor([[0]])]) as st.Tensor;
    assert.deepEqual(Array.from(await y.data()), [0.333251953125, Number.POSITIVE_INFINITY]);
  });
});
