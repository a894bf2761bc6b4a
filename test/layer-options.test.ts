// Tensors passed as call options (attention's value/key, a recurrent initialState) are graph
// inputs too: the functional API records them, replays them, saves and reloads them.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import type { Shape } from '../src/nn/symbolic.js';
import { assertClose, randomTensor } from './helpers.js';

/** x · w + other: a layer whose second operand arrives as an option and whose weight depends on it. */
class ScaleAndAdd extends st.Layer {
  static readonly className = 'ScaleAndAddForTest';
  builtWith: Record<string, Shape | Shape[]> = {};
  w: st.Tensor | null = null;
  constructor(args: st.LayerArgs = {}) {
    super(args as st.LayerArgs & Record<string, unknown>, []);
  }
  override buildWithOptions(inputShape: Shape | Shape[], optionShapes: Record<string, Shape | Shape[]>): void {
    this.builtWith = optionShapes;
    this.w = this.addWeight('w', [(inputShape as Shape)[1] as number], { initializer: 'ones' });
  }
  call(inputs: st.Tensor | st.Tensor[], options: st.CallOptions): st.Tensor {
    return (inputs as st.Tensor).mul(this.w!).add(options.other as st.Tensor);
  }
}
st.layers.registerLayer('ScaleAndAddForTest', (c) => new ScaleAndAdd(c as st.LayerArgs));

describe('tensors passed as options', () => {
  it('are recorded, replayed, shown in summary, saved and loaded', async () => {
    const a = st.input({ shape: [3], name: 'a' }),
      b = st.input({ shape: [3], name: 'b' });
    const layer = new ScaleAndAdd({ name: 'mix' });
    const out = layer.apply(a, { other: st.layers.dense({ units: 3, name: 'proj' }).apply(b) });
    assert.deepEqual(layer.builtWith, { other: [null, 3] });
    const model = st.model({ inputs: [a, b], outputs: out });
    const x = randomTensor([4, 3], 1, 'float32'),
      y = randomTensor([4, 3], 2, 'float32');
    const expected = x.add(model.getLayer('proj').apply(y));
    assertClose(model.predict([x, y]) as st.Tensor, expected, 1e-6, 1e-6);
    let text = '';
    model.summary({ printFn: (l) => (text += l + '\n') });
    assert.match(text, /mix \(ScaleAndAddForTest\).*a\[0\]\[0\], proj\[0\]\[0\]/);
    const dir = join(mkdtempSync(join(tmpdir(), 'strata-opt-')), 'm');
    await model.save(dir);
    const again = await st.loadModel(dir);
    assertClose(again.predict([x, y]) as st.Tensor, expected, 1e-6, 1e-6);
  });

  it('mixing symbolic and real tensors is refused', () => {
    const a = st.input({ shape: [3] });
    assert.throws(() => new ScaleAndAdd().apply(a, { other: st.ones([1, 3]) }), /cannot mix symbolic inputs/);
  });
});

describe('predict keeps the output structure', () => {
  it('a model built with a one-element list of outputs predicts a one-element list', () => {
    const a = st.input({ shape: [3] });
    const single = st.model({ inputs: a, outputs: st.layers.dense({ units: 2 }).apply(a) });
    const listed = st.model({ inputs: a, outputs: [st.layers.dense({ units: 2 }).apply(a)] });
    const x = randomTensor([5, 3], 4, 'float32');
    assert.ok(single.predict(x) instanceof st.Tensor);
    const out = listed.predict(x, { batchSize: 2 });
    assert.ok(Array.isArray(out) && out.length === 1);
    assert.deepEqual([...(out as st.Tensor[])[0].shape], [5, 2]);
  });
});
