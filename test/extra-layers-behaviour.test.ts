// What the PyTorch fixtures of extra-layers.test.ts cannot show: masks made and consumed, the
// random layers' statistics, adapt(), the activity penalty in the trainer's loss, integer
// preprocessing (Keras's documented examples), save and load, and the errors.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { quantileBoundaries } from '../src/nn/layers/preprocessing.js';
import { getMask } from '../src/nn/masking.js';
import { assertClose, randomTensor, throwsWith } from './helpers.js';

const values = (t: st.Tensor) => Array.from(t.dataSync());

describe('Masking', () => {
  it('masks the all-maskValue steps, zeroes them, and an LSTM then skips them as if the sequence were shorter', () => {
    st.setSeed(1);
    const x = randomTensor([2, 5, 3], 3, 'float32');
    // Row 0: real steps 0..2 then padding; row 1: all real.
    const padded = st.concat([st.concat([st.slice(x, [0, 0, 0], [1, 3, 3]), st.fill([1, 2, 3], -1)], 1), st.slice(x, [1, 0, 0], [1, 5, 3])], 0);
    const masking = st.layers.masking({ maskValue: -1 });
    const y = masking.apply(padded);
    assert.deepEqual(values(getMask(y)!.cast('int32')), [1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    assert.deepEqual(values(st.abs(st.slice(y, [0, 3, 0], [1, 2, 3]))), [0, 0, 0, 0, 0, 0]);
    const lstm = st.layers.lstm({ units: 4 });
    const last = lstm.apply(y);
    const short = lstm.apply(st.slice(x, [0, 0, 0], [1, 3, 3]));
    assertClose(st.slice(last, [0, 0], [1, 4]), short, 1e-5, 1e-6, 'masked row = the row cut to its real steps');
  });

  it('in a functional model the mask reaches the softmax layer: padded steps get no probability', () => {
    const inp = st.input({ shape: [4, 1] });
    const model = st.model({ inputs: inp, outputs: st.layers.softmax({ axis: 1 }).apply(st.layers.masking().apply(inp)) });
    const p = model.predict(st.tensor([[[2], [0], [1], [0]]])) as st.Tensor;
    const z = Math.exp(2) + Math.E;
    assertClose(p, [Math.exp(2) / z, 0, Math.E / z, 0], 1e-6, 1e-7);
  });

  it('identity keeps the mask; permute and dot drop it', () => {
    const masked = st.layers.masking().apply(st.tensor([[[1], [0]]]));
    assert.ok(getMask(st.layers.identity().apply(masked)));
    assert.equal(getMask(st.layers.dot({ axes: 1 }).apply([masked, masked])), null);
  });
});

describe('random layers', () => {
  it('alphaDropout keeps mean 0 and variance 1 of standard normal inputs while training, and is the identity at inference', () => {
    const x = st.randomNormal([200, 500], { seed: 2 });
    const layer = st.layers.alphaDropout({ rate: 0.2, seed: 5 });
    const y = layer.apply(x, { training: true });
    const { mean, variance } = st.moments(y);
    assert.ok(Math.abs(mean.item()) < 0.01, `mean ${mean.item()}`);
    assert.ok(Math.abs(variance.item() - 1) < 0.02, `variance ${variance.item()}`);
    // About rate of the values sit at the one dropped level a·α' + b.
    const alphaP = -1.6732632423543772 * 1.0507009873554805;
    const a = (0.8 * (1 + 0.2 * alphaP ** 2)) ** -0.5;
    const dropped = st.sum(st.less(st.abs(st.sub(y, a * alphaP + -a * alphaP * 0.2)), 1e-6)).item() / x.size;
    assert.ok(Math.abs(dropped - 0.2) < 0.01, `dropped fraction ${dropped}`);
    assert.equal(layer.apply(x), x);
    // The gradient is a where kept, 0 where dropped.
    const v = st.variable(st.randomNormal([50, 40], { seed: 3 }));
    const out = st.layers.alphaDropout({ rate: 0.5, seed: 9 }).apply(v, { training: true });
    out.sum().backward();
    const a5 = (0.5 * (1 + 0.5 * alphaP ** 2)) ** -0.5;
    assert.deepEqual([...new Set(values(v.grad!).map((g) => Math.round(g * 1e5) / 1e5))].sort(), [0, Math.round(a5 * 1e5) / 1e5].sort());
  });

  it('spatialDropout2d zeroes whole channels per sample and scales the rest by 1 / (1 - rate)', () => {
    const x = st.ones([4, 3, 3, 8]);
    const y = st.layers.spatialDropout2d({ rate: 0.5, seed: 1 }).apply(x, { training: true });
    const perChannel = values(st.max(y, [1, 2])).map((m, i) => [m, values(st.min(y, [1, 2]))[i]]);
    for (const [hi, lo] of perChannel) assert.ok((hi === 0 && lo === 0) || (hi === 2 && lo === 2), `channel ${hi}/${lo}`);
    const zeros = perChannel.filter(([hi]) => hi === 0).length;
    assert.ok(zeros > 4 && zeros < 28, `${zeros} of 32 channels dropped`);
    const y1 = st.layers.spatialDropout1d({ rate: 0.5, seed: 2 }).apply(st.ones([2, 6, 5]), { training: true });
    assert.equal(st.sum(st.notEqual(st.max(y1, 1), st.min(y1, 1))).item(), 0, 'one draw per sample and channel');
    const y3 = st.layers.spatialDropout3d({ rate: 0.5, seed: 3, dataFormat: 'channelsFirst' }).apply(st.ones([2, 4, 2, 2, 2]), { training: true });
    assert.equal(st.sum(st.notEqual(st.max(y3, [2, 3, 4]), st.min(y3, [2, 3, 4]))).item(), 0);
    throwsWith(() => st.layers.spatialDropout2d({ rate: 0.5 }).apply(st.ones([2, 3, 3])), st.ValueError, /rank 4 \[batch, height, width, channels\]/);
  });
});

describe('randomWidth', () => {
  it('resizes to a random width within the factor range while training (one factor per call), passes images through at inference', () => {
    const x = randomTensor([2, 5, 10, 3], 4, 'float32');
    const layer = st.layers.randomWidth({ factor: [-0.5, 0.5], seed: 3 });
    assert.equal(layer.apply(x), x);
    const widths = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const y = layer.apply(x, { training: true });
      const [n, h, w, c] = y.shape;
      assert.deepEqual([n, h, c], [2, 5, 3]);
      assert.ok(w >= 5 && w <= 15, `width ${w}`);
      widths.add(w);
      // The same resize as Resizing to that size (the sampling itself is checked by Resizing's fixtures).
      assertClose(y, st.layers.resizing({ height: 5, width: w }).apply(x), 1e-6, 1e-6);
    }
    assert.ok(widths.size > 2, `widths drawn: ${[...widths]}`);
    const again = st.layers.randomWidth({ factor: [-0.5, 0.5], seed: 3 }).apply(x, { training: true });
    assert.equal(again.shape[2], st.layers.randomWidth({ factor: [-0.5, 0.5], seed: 3 }).apply(x, { training: true }).shape[2], 'seeded');
    const out = st.layers.randomWidth({ factor: 0.2 }).apply(st.input({ shape: [5, 10, 3] }));
    assert.deepEqual([...out.shape], [null, 5, null, 3]);
    const config = st.layers.randomWidth({ factor: [-0.1, 0.2], interpolation: 'nearest', seed: 5 });
    assert.deepEqual(st.layers.deserialize(JSON.parse(JSON.stringify(st.layers.serialize(config)))).getConfig(), config.getConfig());
    throwsWith(() => st.layers.randomWidth({ factor: 1 }), st.ValueError, /lower bound must be > -1/);
  });
});

describe('activityRegularization', () => {
  it("adds l1·sum|x| + l2·sum(x²) of the batch to the trainer's loss (evaluate and fit), once per pass", async () => {
    st.setSeed(4);
    const inp = st.input({ shape: [3] });
    const hidden = st.layers.dense({ units: 2, kernelInitializer: 'ones' }).apply(inp);
    const out = st.layers.activityRegularization({ l1: 0.01, l2: 0.1 }).apply(hidden);
    const model = st.model({ inputs: inp, outputs: out });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const x = st.tensor([
        [1, 2, 3],
        [0, -1, 1],
      ]),
      y = st.zeros([2, 2]);
    const h = model.predict(x) as st.Tensor;
    const mse = st.mean(st.square(h)).item();
    const penalty = 0.01 * st.sum(st.abs(h)).item() + 0.1 * st.sum(st.square(h)).item();
    for (let i = 0; i < 3; i++) model.predict(x); // uncollected calls do not pile up into the next loss
    const logs = await model.evaluate(x, y, { batchSize: 2, verbose: 0 });
    assert.ok(Math.abs(logs.loss - (mse + penalty)) < 1e-4 * (mse + penalty), `loss ${logs.loss}, expected ${mse + penalty}`);
  });
});

describe('preprocessing layers', () => {
  it("categoryEncoding: Keras's examples for one_hot, multi_hot and count (with weights)", () => {
    const oneHot = st.layers.categoryEncoding({ numTokens: 4, outputMode: 'one_hot' }).apply(st.tensor([3, 2, 0, 1], [4], 'int32'));
    assert.deepEqual(values(oneHot), [0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0]);
    const multi = st.layers.categoryEncoding({ numTokens: 4, outputMode: 'multiHot' }).apply(
      st.tensor(
        [
          [0, 1],
          [0, 0],
          [1, 2],
          [3, 1],
        ],
        undefined,
        'int32',
      ),
    );
    assert.deepEqual(values(multi), [1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1]);
    const ids = st.tensor(
      [
        [0, 1],
        [0, 0],
        [1, 2],
        [3, 1],
      ],
      undefined,
      'int32',
    );
    const weights = st.tensor([
      [0.1, 0.2],
      [0.1, 0.1],
      [0.2, 0.3],
      [0.4, 0.2],
    ]);
    const counted = st.layers.categoryEncoding({ numTokens: 4, outputMode: 'count' }).apply(ids, { countWeights: weights });
    assertClose(counted, [0.1, 0.2, 0, 0, 0.2, 0, 0, 0, 0, 0.2, 0.3, 0, 0, 0.2, 0, 0.4], 1e-6, 1e-7);
    assert.deepEqual(st.layers.categoryEncoding({ numTokens: 5, outputMode: 'one_hot' }).computeOutputShape([null, 1]), [null, 5]);
    throwsWith(() => st.layers.categoryEncoding({ numTokens: 0 }), st.ValueError, /numTokens must be a positive integer; received 0/);
    throwsWith(() => st.layers.categoryEncoding({ numTokens: 3, outputMode: 'tf_idf' as never }), st.ValueError, /outputMode must be one of/);
  });

  it("discretization: Keras's bucket example, encoded outputs and adapt() with Keras's quantile summary", () => {
    const layer = st.layers.discretization({ binBoundaries: [0, 1, 2] });
    const ids = layer.apply(
      st.tensor([
        [-1.5, 1.0, 3.4, 0.5],
        [0.0, 3.0, 1.3, 0.0],
      ]),
    );
    assert.equal(ids.dtype, 'int32');
    assert.deepEqual(values(ids), [0, 2, 3, 1, 1, 3, 2, 1]);
    const hot = st.layers.discretization({ binBoundaries: [0, 1], outputMode: 'count' }).apply(st.tensor([[-1, 0.5, 0.7, 4]]));
    assert.deepEqual(values(hot), [1, 2, 1]);
    // Keras's summary rule on these 8 values (epsilon 0.01 keeps all of them, weight 1 each), then
    // the values at cumulative weight 1/4, 2/4, 3/4: sorted[1], sorted[3], sorted[5].
    const adapted = st.layers.discretization({ numBins: 4, epsilon: 0.01 });
    const data = st.tensor([
      [-1.5, 1.0, 3.4, 0.5],
      [0.0, 3.0, 1.3, 0.0],
    ]);
    adapted.adapt(data);
    assert.deepEqual(adapted.binBoundaries, [0, 0.5, Math.fround(1.3)]);
    assert.deepEqual(values(adapted.apply(data)), [0, 2, 3, 2, 1, 3, 3, 1]);
    // 1000 values: the summary keeps sorted[10], sorted[20], ... (weight 10 each, 99 of them), and
    // quartile k interpolates at 99k/4 of them: 247.5, 495, 742.5.
    const sorted = Float64Array.from({ length: 1000 }, (_, i) => i);
    assert.deepEqual(quantileBoundaries(sorted, 0.01, 4), [247.5, 495, 742.5]);
    const copy = st.layers.deserialize(st.layers.serialize(adapted));
    assert.deepEqual((copy as st.Discretization).binBoundaries, adapted.binBoundaries, 'adapted boundaries saved in the config');
    throwsWith(() => st.layers.discretization({}), st.ValueError, /give binBoundaries, or numBins/);
    throwsWith(() => st.layers.discretization({ numBins: 3 }).apply(st.ones([2])), st.ValueError, /call adapt\(data\) first/);
    throwsWith(() => st.layers.discretization({ binBoundaries: [1, 0] }), st.ValueError, /sorted list/);
  });

  it("normalization: Keras's adapt example, the inverse, batches agree with one tensor, and the statistics are saved", () => {
    const data = st.tensor([
      [0, 7, 4],
      [2, 9, 6],
      [0, 7, 4],
      [2, 9, 6],
    ]);
    const norm = st.layers.normalization({ axis: -1 });
    norm.adapt(data);
    assert.deepEqual(values(norm.apply(st.tensor([[0, 7, 4]]))), [-1, -1, -1]);
    const inv = st.layers.normalization({ axis: -1, invert: true });
    inv.adapt(data);
    assert.deepEqual(values(inv.apply(st.tensor([[1, 2, 3]]))), [2, 10, 8]);
    const x = randomTensor([12, 3], 3, 'float32', -5, 5);
    const whole = st.layers.normalization();
    whole.adapt(x);
    const batched = st.layers.normalization();
    batched.adapt([st.slice(x, [0, 0], [5, 3]), st.slice(x, [5, 0], [7, 3])]);
    for (const i of [0, 1]) assertClose(batched.getWeights()[i], whole.getWeights()[i], 1e-5, 1e-6);
    assert.equal(batched.getWeights()[2].item(), 12);
    const overall = st.layers.normalization({ axis: null });
    overall.adapt(
      st.tensor([
        [1, 2],
        [3, 4],
      ]),
    );
    assertClose(overall.getWeights()[0], [2.5], 1e-7, 0);
    throwsWith(() => st.layers.normalization({ mean: 1 }), st.ValueError, /give both mean and variance/);
    throwsWith(() => st.layers.normalization({ mean: 1, variance: 1 }).adapt(data), st.ValueError, /was given them/);
    throwsWith(() => norm.adapt(st.ones([2, 4])), st.ShapeError, /received a batch of shape \(2, 4\)/);
  });
});

describe('extra layers: save and load', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'strata-extra-layers-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const adapted = () => {
    const n = st.layers.normalization();
    n.adapt(randomTensor([10, 6, 2], 4, 'float32', -3, 3));
    return n;
  };
  const models: [string, number[], () => st.Layer][] = [
    ['prelu', [6, 2], () => st.layers.prelu({ sharedAxes: [1], alphaInitializer: st.initializers.constant({ value: 0.2 }) })],
    ['leakyReLU', [6, 2], () => st.layers.leakyReLU({ alpha: 0.1 })],
    ['rmsNormalization', [6, 2], () => st.layers.rmsNormalization({ epsilon: 1e-3 })],
    ['normalization (adapted)', [6, 2], adapted],
    ['permute', [6, 2], () => st.layers.permute({ dims: [2, 1] })],
    ['softmax', [6, 2], () => st.layers.softmax({ axis: 1 })],
    ['zeroPadding1d', [6, 2], () => st.layers.zeroPadding1d({ padding: [2, 1] })],
    ['cropping1d', [6, 2], () => st.layers.cropping1d({ cropping: [1, 2] })],
    ['upSampling1d', [6, 2], () => st.layers.upSampling1d({ size: 3 })],
  ];
  for (const [name, shape, layer] of models) {
    it(`a model holding ${name} predicts identically after save and load`, async () => {
      st.setSeed(7);
      const inp = st.input({ shape });
      const out = st.layers.dense({ units: 2 }).apply(st.layers.flatten().apply(layer().apply(inp)));
      const model = st.model({ inputs: inp, outputs: out });
      const x = randomTensor([3, ...shape], 11, 'float32');
      const dir = join(root, name.replace(/\W/g, '_'));
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      const predict = (m: st.Model) => values(m.predict(x) as st.Tensor);
      assert.deepEqual(predict(loaded), predict(model));
      assert.deepEqual(loaded.getConfig(), model.getConfig());
    });
  }
});

describe('extra layers: errors and options', () => {
  it('refuses bad options with what was expected and what was received', () => {
    throwsWith(() => st.layers.leakyReLU({ negativeSlope: -1 }), st.ValueError, /negativeSlope must be a finite number >= 0; received -1/);
    throwsWith(() => st.layers.leakyReLU({ alpha: 0.1, negativeSlope: 0.2 }), st.ValueError, /not both/);
    throwsWith(() => st.layers.prelu({ sharedAxes: [0] }), st.ValueError, /sharedAxes must be an axis >= 1/);
    throwsWith(() => st.layers.prelu({ alphaConstraint: 'nonNeg' } as never), st.ValueError, /alphaConstraint is not supported/);
    throwsWith(() => st.layers.thresholdedReLU({ theta: -0.5 }), st.ValueError, /theta must be a finite number >= 0/);
    throwsWith(() => st.layers.softmax({ axis: 3 }).apply(st.ones([2, 3])), st.ValueError, /axis 3 is out of range for inputs of rank 2/);
    throwsWith(() => st.layers.permute({ dims: [1, 3] }), st.ValueError, /dims must be a permutation of 1..2/);
    throwsWith(() => st.layers.permute({ dims: [2, 1] }).apply(st.ones([2, 3])), st.ValueError, /expects inputs of rank 3/);
    throwsWith(() => st.layers.repeatVector({ n: 0 }), st.ValueError, /n must be a positive integer; received 0/);
    throwsWith(() => st.layers.repeatVector({ n: 2 }).apply(st.ones([2, 3, 4])), st.ValueError, /rank 2 \[batch, features\]/);
    throwsWith(() => st.layers.dot({ axes: [1, 1] }).apply([st.ones([2, 3]), st.ones([2, 4])]), st.ShapeError, /summed axes differ in size/);
    throwsWith(() => st.layers.dot({ axes: 0 }).apply([st.ones([2, 3]), st.ones([2, 3])]), st.ValueError, /out of range or the batch axis/);
    throwsWith(() => st.layers.dot({ axes: 1 }).apply(st.ones([2, 3])), st.ValueError, /exactly 2 inputs/);
    throwsWith(() => st.layers.alphaDropout({ rate: 1 }), st.ValueError, /rate must be a number in \[0, 1\); received 1/);
    throwsWith(() => st.layers.activityRegularization({ l1: -1 }), st.ValueError, /l1 must be a non-negative finite number/);
    throwsWith(() => st.layers.cropping1d({ cropping: [3, 3] }).apply(st.ones([1, 5, 2])), st.ShapeError, /removes every step/);
    throwsWith(() => st.layers.zeroPadding3d({ padding: [1, 2] }), st.ValueError, /padding must be non-negative integers/);
    throwsWith(() => st.layers.upSampling3d({ size: 0 }), st.ValueError, /size must be a positive integer/);
    throwsWith(() => st.layers.rmsNormalization({ axis: 0 }).apply(st.ones([2, 3])), st.ValueError, /batch axis 0/);
    throwsWith(() => st.layers.masking({ mask_value: 0 } as never), st.ValueError, /unknown option 'mask_value'/);
  });

  it("leakyReLU's default slope is 0.3 (Keras 3's and tfjs's layer default); its config stores negativeSlope", () => {
    const layer = st.layers.leakyReLU();
    assert.deepEqual(values(layer.apply(st.tensor([-10, -5, 0, 5, 10]))), [-3, -1.5, 0, 5, 10].map(Math.fround));
    assert.equal(st.layers.leakyReLU({ alpha: 0.5 }).getConfig().negativeSlope, 0.5);
  });

  it('st.rmsNormalization follows Keras: default epsilon 1e-7, scale broadcast, integers become float32', () => {
    const y = st.rmsNormalization(st.tensor([[3, 4]], undefined, 'int32'));
    assert.equal(y.dtype, 'float32');
    const r = Math.sqrt(12.5 + 1e-7);
    assertClose(y, [3 / r, 4 / r], 1e-6, 0);
    assertClose(st.rmsNormalization([[3, 4]], { scale: [2, 0.5], epsilon: 0 }), [(2 * 3) / Math.sqrt(12.5), (0.5 * 4) / Math.sqrt(12.5)], 1e-6, 0);
    throwsWith(() => st.rmsNormalization([1, 2], { eps: 1 } as never), st.ValueError, /unknown option 'eps'/);
  });
});
