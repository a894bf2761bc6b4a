// Sequential and functional models: building, summary(), graph errors, predict and evaluate
// checked against float64 forward passes computed here from the models' own weights, shared
// and nested layers, freezing and dropout. Runs on each available backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, assertCloseAsync, randomValues, withBackendAsync } from './helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first; the
// per-backend checks read with `await t.data()`, which every backend has.
await st.ready();
const BACKENDS = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);
const L = st.layers;

// ---- float64 references --------------------------------------------------------------------

type Matrix = number[][];
let seed = 17;
const uniform = (shape: number[], lo = -1, hi = 1) =>
  st.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      (seed += 7919),
      lo,
      hi,
    ),
    shape,
  );
const labels = (n: number, classes: number) => st.tensor(randomValues(n, (seed += 7919), 0, classes).map(Math.floor), [n], 'int32');

/** A [n, c] tensor (or [n]) as rows of numbers. */
async function toRows(t: st.Tensor): Promise<Matrix> {
  const v = Array.from(await t.data()),
    c = t.rank === 1 ? 1 : t.shape[t.rank - 1];
  return Array.from({ length: v.length / c }, (_, i) => v.slice(i * c, (i + 1) * c));
}
/** A layer's weights as flat lists of numbers. */
const values = (layer: st.Layer) => Promise.all(layer.getWeights().map(async (w) => Array.from(await w.data())));
const relu = (v: number) => Math.max(v, 0);
const identity = (v: number) => v;

/** act(x · kernel + bias) in float64, from a layer's [kernel, bias] weights. */
async function denseRef(x: Matrix, layer: st.Layer, act: (v: number) => number = identity): Promise<Matrix> {
  const [kernel, bias] = await Promise.all(layer.getWeights().map(toRows));
  return x.map((row) => kernel[0].map((_, j) => act(row.reduce((s, xi, i) => s + xi * kernel[i][j], bias ? bias[j][0] : 0))));
}
function softmaxRows(x: Matrix): Matrix {
  return x.map((r) => {
    const m = Math.max(...r),
      e = r.map((v) => Math.exp(v - m)),
      s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}
const addM = (a: Matrix, b: Matrix): Matrix => a.map((r, i) => r.map((v, j) => v + b[i][j]));
const concatM = (a: Matrix, b: Matrix): Matrix => a.map((r, i) => [...r, ...b[i]]);
const flatM = (m: Matrix) => m.flat();
const argMax = (r: number[]) => r.reduce((best, v, i) => (v > r[best] ? i : best), 0);

/** Captures summary() lines. */
function summaryLines(model: st.Model): { lines: string[]; text: string } {
  const lines: string[] = [];
  const text = model.summary({ printFn: (line) => lines.push(line) });
  return { lines, text };
}
/** The cells of the table row whose first cell starts with `name (`. */
function rowOf(lines: string[], name: string): string[] {
  const line = lines.find((l) => l.startsWith('│') && l.split('│')[1].trim().startsWith(`${name} (`));
  assert.ok(line, `no summary row for ${name} in\n${lines.join('\n')}`);
  return line
    .split('│')
    .slice(1, -1)
    .map((c) => c.trim());
}

for (const backend of BACKENDS) {
  describe(`Sequential on the ${backend} backend`, () => {
    it('with inputShape on the first layer it is built at once: summary before data, predict as float64', () =>
      withBackendAsync(backend, async () => {
        const m = st.sequential({ layers: [L.dense({ units: 4, inputShape: [3], activation: 'relu' }), L.dense({ units: 5 })] });
        assert.equal(m.built, true);
        assert.deepEqual(m.outputs[0].shape, [null, 5]);
        const { lines } = summaryLines(m);
        const [d1, d2] = m.layers;
        assert.deepEqual(rowOf(lines, d1.name).slice(1), ['(None, 4)', '16']);
        assert.deepEqual(rowOf(lines, d2.name).slice(1), ['(None, 5)', '25']);
        assert.ok(lines.includes(' Total params: 41 (164.00 B)'), lines.join('\n'));
        const x = uniform([6, 3]);
        await assertCloseAsync(m.predict(x) as st.Tensor, flatM(await denseRef(await denseRef(await toRows(x), d1, relu), d2)), 1e-5, 1e-6);
      }));

    it('without an input shape it builds on the first call, from the data', () =>
      withBackendAsync(backend, async () => {
        const m = st.sequential({ layers: [L.dense({ units: 4, activation: 'relu' }), L.dense({ units: 2 })] });
        assert.equal(m.built, false);
        assert.equal(m.countParams(), 0);
        assert.match(rowOf(summaryLines(m).lines, m.layers[0].name)[2], /unbuilt/);
        const x = uniform([5, 7]);
        const y = m.predict(x) as st.Tensor;
        assert.deepEqual(y.shape, [5, 2]);
        assert.equal(m.built, true);
        assert.deepEqual(m.outputs[0].shape, [null, 2]);
        assert.equal(m.countParams(), 7 * 4 + 4 + 4 * 2 + 2);
        assert.deepEqual(rowOf(summaryLines(m).lines, m.layers[1].name).slice(1), ['(None, 2)', '10']);
        await assertCloseAsync(y, flatM(await denseRef(await denseRef(await toRows(x), m.layers[0], relu), m.layers[1])), 1e-5, 1e-6);
        // fit builds an unbuilt model too
        const m2 = st.sequential({ layers: [L.dense({ units: 3 })] });
        m2.compile({ optimizer: 'sgd', loss: 'mse' });
        await m2.fit(uniform([8, 2]), uniform([8, 3]), { epochs: 1, verbose: 0 });
        assert.deepEqual(
          m2.getWeights().map((w) => [...w.shape]),
          [[2, 3], [3]],
        );
      }));

    it('add(st.layers.input()) first builds each layer as it is added', () =>
      withBackendAsync(backend, async () => {
        const m = st.sequential();
        m.add(st.layers.input({ shape: [4] }));
        m.add(L.dense({ units: 3, activation: 'relu' }));
        assert.equal(m.built, true);
        assert.deepEqual(m.outputs[0].shape, [null, 3]);
        m.add(L.dense({ units: 2 }));
        assert.deepEqual(m.outputs[0].shape, [null, 2]);
        assert.equal(m.layers.length, 2, "the input layer is not among a Sequential model's layers (as Keras)");
        assert.equal(m.countParams(), 15 + 8);
        const x = uniform([3, 4]);
        await assertCloseAsync(
          m.predict(x) as st.Tensor,
          flatM(await denseRef(await denseRef(await toRows(x), m.layers[0], relu), m.layers[1])),
          1e-5,
          1e-6,
        );
        assert.throws(() => m.add(st.layers.input({ shape: [2] })), st.ValueError);
      }));

    it('pop() removes the last layer and reconnects the rest', () =>
      withBackendAsync(backend, async () => {
        const m = st.sequential({ layers: [L.dense({ units: 4, inputShape: [3] }), L.dense({ units: 6 }), L.dense({ units: 2 })] });
        m.pop();
        assert.equal(m.layers.length, 2);
        assert.deepEqual(m.outputs[0].shape, [null, 6]);
        assert.equal(m.countParams(), 16 + 30);
        const x = uniform([2, 3]);
        await assertCloseAsync(
          m.predict(x) as st.Tensor,
          flatM(await denseRef(await denseRef(await toRows(x), m.layers[0]), m.layers[1])),
          1e-5,
          1e-6,
        );
        m.pop();
        m.pop();
        assert.equal(m.layers.length, 0);
        assert.deepEqual(m.outputs[0].shape, [null, 3], 'with no layers left the output is the input');
        assert.throws(() => m.pop(), st.ValueError);
      }));

    it('refuses a duplicate layer name; layers and getLayer', () =>
      withBackendAsync(backend, async () => {
        const a = L.dense({ units: 2, inputShape: [3], name: 'first' });
        assert.throws(
          () => st.sequential({ layers: [a, L.dense({ units: 2, name: 'first' })] }),
          (e: Error) => e instanceof st.ValueError && /first/.test(e.message),
        );
        const b = L.dense({ units: 3, name: 'second' }),
          c = L.dense({ units: 1, name: 'third' });
        const m = st.sequential({ layers: [L.dense({ units: 2, inputShape: [3], name: 'first' }), b, c] });
        assert.deepEqual(
          m.layers.map((l) => l.name),
          ['first', 'second', 'third'],
        );
        assert.equal(m.getLayer('second'), b);
        assert.equal(m.getLayer(2), c);
        assert.throws(
          () => m.getLayer('fourth'),
          (e: Error) => e instanceof st.ValueError && /first, second, third/.test(e.message),
        );
      }));
  });

  describe(`summary() on the ${backend} backend`, () => {
    it('the Deep Learning with Python ch. 8 MNIST convnet: 104,202 parameters, Keras shapes and names', () =>
      withBackendAsync(backend, async () => {
        const m = st.sequential({
          layers: [
            L.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
            L.maxPooling2d({ poolSize: 2 }),
            L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
            L.maxPooling2d({ poolSize: 2 }),
            L.conv2d({ filters: 128, kernelSize: 3, activation: 'relu' }),
            L.flatten(),
            L.dense({ units: 10, activation: 'softmax' }),
          ],
        });
        const { lines, text } = summaryLines(m);
        assert.equal(text, lines.join('\n'));
        assert.equal(lines[0], `Model: "${m.name}"`);
        assert.match(m.name, /^sequential(_\d+)?$/);
        const expected: [RegExp, string, string, string][] = [
          [/^conv2d(_\d+)?$/, 'Conv2D', '(None, 26, 26, 32)', '320'],
          [/^max_pooling2d(_\d+)?$/, 'MaxPooling2D', '(None, 13, 13, 32)', '0'],
          [/^conv2d_\d+$/, 'Conv2D', '(None, 11, 11, 64)', '18,496'],
          [/^max_pooling2d_\d+$/, 'MaxPooling2D', '(None, 5, 5, 64)', '0'],
          [/^conv2d_\d+$/, 'Conv2D', '(None, 3, 3, 128)', '73,856'],
          [/^flatten(_\d+)?$/, 'Flatten', '(None, 1152)', '0'],
          [/^dense(_\d+)?$/, 'Dense', '(None, 10)', '11,530'],
        ];
        assert.equal(new Set(m.layers.map((l) => l.name)).size, 7);
        m.layers.forEach((layer, i) => {
          const [pattern, cls, shape, params] = expected[i];
          assert.match(layer.name, pattern);
          assert.deepEqual(rowOf(lines, layer.name), [`${layer.name} (${cls})`, shape, params]);
        });
        assert.ok(!lines.some((l) => l.includes('Connected to')), 'a Sequential summary has no Connected to column');
        assert.ok(lines.includes(' Total params: 104,202 (407.04 KB)'), lines.join('\n'));
        assert.ok(lines.includes(' Trainable params: 104,202 (407.04 KB)'));
        assert.ok(lines.includes(' Non-trainable params: 0 (0.00 B)'));
      }));

    it('a functional summary has a Connected to column; frozen statistics count as non-trainable', () =>
      withBackendAsync(backend, async () => {
        const a = st.input({ shape: [3], name: 'left' }),
          b = st.input({ shape: [2], name: 'right' });
        const joined = L.concatenate({ name: 'joined' }).apply([a, b]);
        const out = L.dense({ units: 4, name: 'head' }).apply(L.batchNormalization({ name: 'norm' }).apply(joined));
        const { lines } = summaryLines(st.model({ inputs: [a, b], outputs: out }));
        assert.match(lines[2], /Layer \(type\).*Output Shape.*Param #.*Connected to/);
        assert.deepEqual(rowOf(lines, 'left'), ['left (InputLayer)', '(None, 3)', '0', '-']);
        assert.deepEqual(rowOf(lines, 'joined'), ['joined (Concatenate)', '(None, 5)', '0', 'left[0][0], right[0][0]']);
        assert.deepEqual(rowOf(lines, 'norm'), ['norm (BatchNormalization)', '(None, 5)', '20', 'joined[0][0]']);
        assert.deepEqual(rowOf(lines, 'head'), ['head (Dense)', '(None, 4)', '24', 'norm[0][0]']);
        assert.ok(lines.includes(' Total params: 44 (176.00 B)'), lines.join('\n'));
        assert.ok(lines.includes(' Trainable params: 34 (136.00 B)'));
        assert.ok(lines.includes(' Non-trainable params: 10 (40.00 B)'));
      }));
  });

  describe(`functional models on the ${backend} backend`, () => {
    it('two inputs and two outputs: predict, and evaluate with a list of losses and lossWeights', () =>
      withBackendAsync(backend, async () => {
        const a = st.input({ shape: [3] }),
          b = st.input({ shape: [2] });
        const hidden = L.dense({ units: 4, activation: 'relu' });
        const h = hidden.apply(L.concatenate().apply([a, b]));
        const reg = L.dense({ units: 1, name: 'reg' }),
          cls = L.dense({ units: 3, activation: 'softmax', name: 'cls' });
        const m = st.model({ inputs: [a, b], outputs: [reg.apply(h), cls.apply(h)] });
        assert.deepEqual(
          m.outputs.map((o) => o.shape),
          [
            [null, 1],
            [null, 3],
          ],
        );
        m.compile({ optimizer: 'sgd', loss: ['mse', 'sparseCategoricalCrossentropy'], lossWeights: [0.5, 2], metrics: [[], ['accuracy']] });
        const xa = uniform([9, 3]),
          xb = uniform([9, 2]),
          y1 = uniform([9, 1]),
          y2 = labels(9, 3);
        const hRef = await denseRef(concatM(await toRows(xa), await toRows(xb)), hidden, relu);
        const p1 = await denseRef(hRef, reg),
          p2 = softmaxRows(await denseRef(hRef, cls));
        const [o1, o2] = m.predict([xa, xb], { batchSize: 4 }) as st.Tensor[];
        await assertCloseAsync(o1, flatM(p1), 1e-5, 1e-6);
        await assertCloseAsync(o2, flatM(p2), 1e-5, 1e-6);
        const t1 = await toRows(y1),
          t2 = (await toRows(y2)).map((r) => r[0]);
        const mse = p1.reduce((s, r, i) => s + (r[0] - t1[i][0]) ** 2, 0) / 9;
        const ce = -p2.reduce((s, r, i) => s + Math.log(r[t2[i]]), 0) / 9;
        const acc = p2.filter((r, i) => argMax(r) === t2[i]).length / 9;
        const logs = await m.evaluate([xa, xb], [y1, y2], { batchSize: 4 });
        assert.deepEqual(Object.keys(logs).sort(), ['cls_accuracy', 'cls_loss', 'loss', 'reg_loss']);
        assertClose([logs.reg_loss, logs.cls_loss, logs.loss, logs.cls_accuracy], [mse, ce, 0.5 * mse + 2 * ce, acc], 1e-5, 1e-6);
        const history = await m.fit([xa, xb], [y1, y2], {
          epochs: 2,
          batchSize: 4,
          verbose: 0,
          validationData: [
            [xa, xb],
            [y1, y2],
          ],
        });
        assert.deepEqual(Object.keys(history.history).sort(), [
          'cls_accuracy',
          'cls_loss',
          'loss',
          'reg_loss',
          'val_cls_accuracy',
          'val_cls_loss',
          'val_loss',
          'val_reg_loss',
        ]);
        for (const v of Object.values(history.history)) assert.equal(v.length, 2);
      }));

    it('a shared layer holds one set of weights, counted once, and gets the gradient of both calls', () =>
      withBackendAsync(backend, async () => {
        const a = st.input({ shape: [3] }),
          b = st.input({ shape: [3] });
        const shared = L.dense({ units: 1 });
        const m = st.model({ inputs: [a, b], outputs: L.add().apply([shared.apply(a), shared.apply(b)]) });
        assert.equal(m.weights.length, 2);
        assert.equal(m.countParams(), 4);
        assert.equal(m.layers.filter((l) => l === shared).length, 1);
        const xa = uniform([5, 3]),
          xb = uniform([5, 3]),
          y = uniform([5, 1]);
        const ra = await toRows(xa),
          rb = await toRows(xb),
          ty = await toRows(y);
        const pred = addM(await denseRef(ra, shared), await denseRef(rb, shared));
        await assertCloseAsync(m.predict([xa, xb]) as st.Tensor, flatM(pred), 1e-5, 1e-6);
        // out = (a + b) K + 2 bias; mse gradient dL/dout = 2 (out - y) / 5
        const [kernel, bias] = await values(shared);
        const dOut = pred.map((r, i) => (2 * (r[0] - ty[i][0])) / 5);
        const gK = kernel.map((_, k) => dOut.reduce((s, d, i) => s + d * (ra[i][k] + rb[i][k]), 0));
        const gB = 2 * dOut.reduce((s, d) => s + d, 0);
        m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse' });
        await m.trainOnBatch([xa, xb], y);
        const [k2, b2] = shared.getWeights();
        await assertCloseAsync(
          k2,
          kernel.map((w, k) => w - 0.1 * gK[k]),
          1e-5,
          1e-6,
          'kernel',
        );
        await assertCloseAsync(b2, [bias[0] - 0.1 * gB], 1e-5, 1e-6, 'bias');
      }));

    it('a model used as a layer inside another model: shapes, weights, predict, training', () =>
      withBackendAsync(backend, async () => {
        const i = st.input({ shape: [6] });
        const innerDense = L.dense({ units: 4, activation: 'relu' });
        const inner = st.model({ inputs: i, outputs: innerDense.apply(i) });
        assert.deepEqual(inner.computeOutputShape([null, 6]), [null, 4]);
        const j = st.input({ shape: [6], batchSize: 8 });
        const head = L.dense({ units: 2 });
        const out = head.apply(inner.apply(j));
        assert.deepEqual(out.shape, [8, 2], 'a known batch size flows through the nested model');
        const outer = st.model({ inputs: j, outputs: out });
        assert.ok(outer.layers.includes(inner));
        assert.equal(outer.countParams(), inner.countParams() + head.countParams());
        assert.equal(outer.weights.length, 4);
        const x = uniform([8, 6]);
        const ref = async () => flatM(await denseRef(await denseRef(await toRows(x), innerDense, relu), head));
        await assertCloseAsync(outer.predict(x) as st.Tensor, await ref(), 1e-5, 1e-6);
        const before = await values(inner);
        outer.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.5 }), loss: 'mse' });
        await outer.trainOnBatch(x, uniform([8, 2]));
        assert.notDeepEqual(await values(inner), before, 'training the outer model trains the inner one');
        await assertCloseAsync(outer.predict(x) as st.Tensor, await ref(), 1e-5, 1e-6);
      }));

    it('graph errors: disconnected input, unused input, non-symbolic outputs', () =>
      withBackendAsync(backend, async () => {
        const a = st.input({ shape: [3], name: 'known' }),
          b = st.input({ shape: [3], name: 'missing' });
        const sum = L.add().apply([a, b]);
        assert.throws(
          () => st.model({ inputs: a, outputs: sum }),
          (e: Error) => e instanceof st.ValueError && /graph disconnected/.test(e.message) && /missing/.test(e.message),
        );
        assert.throws(
          () => st.model({ inputs: [a, b], outputs: L.dense({ units: 1 }).apply(a) }),
          (e: Error) => e instanceof st.ValueError && /missing/.test(e.message),
        );
        assert.throws(() => st.model({ inputs: a, outputs: st.ones([2, 3]) as unknown as st.SymbolicTensor }), st.ValueError);
      }));

    it('infers output shapes with a null batch axis', () =>
      withBackendAsync(backend, async () => {
        const x = st.input({ shape: [10, 10, 3] });
        const c = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(x);
        const p = L.maxPooling2d({ poolSize: 2 }).apply(c);
        const f = L.flatten().apply(p);
        const m = st.model({ inputs: x, outputs: [f, L.dense({ units: 7 }).apply(f)] });
        assert.deepEqual(c.shape, [null, 10, 10, 4]);
        assert.deepEqual(p.shape, [null, 5, 5, 4]);
        assert.deepEqual(
          m.outputs.map((o) => o.shape),
          [
            [null, 100],
            [null, 7],
          ],
        );
        assert.deepEqual(m.computeOutputShape([3, 10, 10, 3]), [
          [3, 100],
          [3, 7],
        ]);
        const outs = m.predict(uniform([2, 10, 10, 3])) as st.Tensor[];
        assert.deepEqual(
          outs.map((t) => t.shape),
          [
            [2, 100],
            [2, 7],
          ],
        );
      }));

    it('apply on eager tensors equals predict', () =>
      withBackendAsync(backend, async () => {
        const a = st.input({ shape: [4] }),
          b = st.input({ shape: [4] });
        const h = L.dense({ units: 5, activation: 'tanh' }).apply(L.multiply().apply([a, b]));
        const m = st.model({ inputs: [a, b], outputs: [h, L.dense({ units: 2 }).apply(h)] });
        const xa = uniform([11, 4]),
          xb = uniform([11, 4]);
        const eager = m.apply([xa, xb]) as unknown as st.Tensor[];
        const batched = m.predict([xa, xb], { batchSize: 3 }) as st.Tensor[];
        assert.equal(eager.length, 2);
        for (const [k, t] of eager.entries()) await assertCloseAsync(t, batched[k], 1e-6, 1e-6, `output ${k}`);
      }));
  });

  describe(`predict and evaluate on the ${backend} backend`, () => {
    it('predict in batches of 7 over 20 samples equals one call and the float64 forward pass; predictOnBatch too', () =>
      withBackendAsync(backend, async () => {
        const m = st.sequential({ layers: [L.dense({ units: 6, inputShape: [5], activation: 'relu' }), L.dense({ units: 3 })] });
        const x = uniform([20, 5]);
        const ref = flatM(await denseRef(await denseRef(await toRows(x), m.layers[0], relu), m.layers[1]));
        const batched = m.predict(x, { batchSize: 7 }) as st.Tensor;
        assert.deepEqual(batched.shape, [20, 3]);
        await assertCloseAsync(batched, ref, 1e-5, 1e-6, 'batched');
        await assertCloseAsync(batched, m.predict(x, { batchSize: 32 }) as st.Tensor, 1e-6, 1e-7, 'one call');
        await assertCloseAsync(m.predictOnBatch(x) as st.Tensor, ref, 1e-5, 1e-6, 'predictOnBatch');
        assert.throws(() => m.predict(x, { batchSize: 0 }), st.ValueError);
        assert.throws(() => m.predict(x, { batch: 7 } as unknown as st.PredictArgs), st.ValueError);
      }));

    it('evaluate returns {loss, accuracy} over the whole set, batches of unequal size included', () =>
      withBackendAsync(backend, async () => {
        const m = st.sequential({
          layers: [L.dense({ units: 8, inputShape: [4], activation: 'relu' }), L.dense({ units: 3, activation: 'softmax' })],
        });
        m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
        const x = uniform([23, 4], -2, 2),
          y = labels(23, 3);
        const probs = softmaxRows(await denseRef(await denseRef(await toRows(x), m.layers[0], relu), m.layers[1]));
        const t = (await toRows(y)).map((r) => r[0]);
        const loss = -probs.reduce((s, r, i) => s + Math.log(r[t[i]]), 0) / 23;
        const accuracy = probs.filter((r, i) => argMax(r) === t[i]).length / 23;
        const logs = await m.evaluate(x, y, { batchSize: 7 });
        assert.deepEqual(Object.keys(logs).sort(), ['accuracy', 'loss']);
        assertClose([logs.loss, logs.accuracy], [loss, accuracy], 1e-5, 1e-6);
        const onBatch = await m.testOnBatch(x, y);
        assertClose([onBatch.loss, onBatch.accuracy], [loss, accuracy], 1e-5, 1e-6);
      }));
  });

  describe(`freezing on the ${backend} backend`, () => {
    it('layer.trainable = false keeps its weights through fit; trainableWeights and nonTrainableWeights', () =>
      withBackendAsync(backend, async () => {
        const first = L.dense({ units: 4, inputShape: [3], activation: 'relu' }),
          second = L.dense({ units: 2 });
        const m = st.sequential({ layers: [first, second] });
        assert.deepEqual([m.trainableWeights.length, m.nonTrainableWeights.length], [4, 0]);
        first.trainable = false;
        assert.deepEqual([m.trainableWeights.length, m.nonTrainableWeights.length], [2, 2]);
        assert.deepEqual(
          m.nonTrainableWeights.map((w) => w.path),
          [`${first.name}/kernel`, `${first.name}/bias`],
        );
        const [frozen, moving] = [await values(first), await values(second)];
        m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse' });
        await m.fit(uniform([16, 3]), uniform([16, 2]), { epochs: 2, batchSize: 8, verbose: 0 });
        assert.deepEqual(await values(first), frozen);
        assert.notDeepEqual(await values(second), moving);
        first.trainable = true;
        assert.equal(m.trainableWeights.length, 4);
      }));

    it('batch normalization: training updates the moving statistics by momentum; frozen it keeps them', () =>
      withBackendAsync(backend, async () => {
        const x = uniform([12, 3], -1, 3);
        const rows = await toRows(x);
        const cols = [0, 1, 2].map((j) => rows.map((r) => r[j]));
        const mean = cols.map((c) => c.reduce((a, b) => a + b, 0) / c.length);
        const variance = cols.map((c, j) => c.reduce((a, b) => a + (b - mean[j]) ** 2, 0) / c.length);
        for (const freeze of [false, true]) {
          const bn = L.batchNormalization({ inputShape: [3], momentum: 0.9 });
          const m = st.sequential({ layers: [bn, L.dense({ units: 1 })] });
          assert.deepEqual([bn.trainableWeights.length, bn.nonTrainableWeights.length], [2, 2]);
          if (freeze) bn.trainable = false;
          const before = await values(bn);
          m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse' });
          await m.trainOnBatch(x, uniform([12, 1]));
          const [gamma, beta, movingMean, movingVar] = await values(bn);
          if (freeze) {
            assert.deepEqual([gamma, beta, movingMean, movingVar], before);
          } else {
            assertClose(
              movingMean,
              mean.map((v) => 0.1 * v),
              1e-5,
              1e-6,
              'moving mean',
            );
            assertClose(
              movingVar,
              variance.map((v) => 0.9 + 0.1 * v),
              1e-4,
              1e-6,
              'moving variance',
            );
            assert.notDeepEqual(gamma, before[0]);
          }
        }
      }));

    it('model.trainable = false freezes every layer', () =>
      withBackendAsync(backend, async () => {
        const m = st.sequential({ layers: [L.dense({ units: 4, inputShape: [3] }), L.batchNormalization(), L.dense({ units: 1 })] });
        m.trainable = false;
        assert.equal(m.trainableWeights.length, 0);
        assert.equal(m.nonTrainableWeights.length, 8);
        assert.ok(m.layers.every((l) => !l.trainable));
        assert.ok(summaryLines(m).lines.includes(' Trainable params: 0 (0.00 B)'));
        const before = await values(m);
        m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse' });
        await m.fit(uniform([8, 3]), uniform([8, 1]), { epochs: 2, batchSize: 4, verbose: 0 });
        assert.deepEqual(await values(m), before);
      }));
  });

  describe(`dropout on the ${backend} backend`, () => {
    it('is active in fit only: predict and evaluate are the plain forward pass', () =>
      withBackendAsync(backend, async () => {
        const dense = L.dense({ units: 16, inputShape: [4] });
        const m = st.sequential({ layers: [dense, L.dropout({ rate: 0.5 })] });
        const x = uniform([32, 4]),
          y = st.zeros([32, 16]);
        const ref = flatM(await denseRef(await toRows(x), dense));
        const meanSquare = ref.reduce((s, v) => s + v * v, 0) / ref.length;
        await assertCloseAsync(m.predict(x) as st.Tensor, ref, 1e-5, 1e-6, 'predict');
        await assertCloseAsync(m.predict(x) as st.Tensor, ref, 1e-5, 1e-6, 'predict again');
        m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0 }), loss: 'mse' });
        const evaluated = await m.evaluate(x, y);
        assertClose(evaluated.loss, meanSquare, 1e-5, 1e-7, 'evaluate');
        // With a learning rate of 0 the weights stay; the training loss differs only through dropout:
        // each kept value is doubled, so its square is quadrupled and about half are kept.
        const history = await m.fit(x, y, { epochs: 1, batchSize: 32, verbose: 0, shuffle: false });
        const trainLoss = history.history.loss[0];
        assert.ok(Math.abs(trainLoss - meanSquare) > 0.05 * meanSquare, `fit loss ${trainLoss} vs ${meanSquare}`);
        assert.ok(trainLoss > 1.2 * meanSquare && trainLoss < 2.8 * meanSquare, `fit loss ${trainLoss} vs ${meanSquare}`);
        const trained = Array.from(await (m.apply(x, { training: true }) as st.Tensor).data());
        trained.forEach((v, i) =>
          assert.ok(v === 0 || Math.abs(v - 2 * ref[i]) <= 1e-5 + 1e-5 * Math.abs(ref[i]), `element ${i}: ${v} vs ${ref[i]}`),
        );
        const zeros = trained.filter((v) => v === 0).length / trained.length;
        assert.ok(zeros > 0.35 && zeros < 0.65, `dropped fraction ${zeros}`);
      }));
  });
}

describe("a layer's symbolic input and output (Keras's layer.input / layer.output)", () => {
  it('cut a functional model at a layer; a model answers with its own, and a layer called twice or never says so', async () => {
    const x = st.input({ shape: [4], name: 'features' });
    const hiddenLayer = st.layers.dense({ units: 3, activation: 'tanh', name: 'hidden' });
    const h = hiddenLayer.apply(x) as st.SymbolicTensor;
    const y = st.layers.dense({ units: 2, name: 'out' }).apply(h) as st.SymbolicTensor;
    const net = st.model({ inputs: x, outputs: y });
    assert.equal(net.getLayer('hidden').output, h);
    assert.equal(net.getLayer('hidden').input, x);
    assert.equal(net.output, y);
    assert.equal(net.input, x);
    const cut = st.model({ inputs: net.inputs, outputs: net.getLayer('hidden').output as st.SymbolicTensor });
    const batch = st.tensor(randomValues(8, 3), [2, 4]);
    const [kernel, bias] = hiddenLayer.getWeights();
    assertClose(cut.predict(batch) as st.Tensor, st.tanh(st.add(st.matMul(batch, kernel), bias)));
    assert.throws(() => st.layers.dense({ units: 1, name: 'lonely' }).output, /lonely\.output: the layer has not been called on symbolic inputs/);
    hiddenLayer.apply(st.input({ shape: [4] }));
    assert.throws(() => hiddenLayer.input, /hidden\.input: the layer has been called 2 times/);
  });
});
