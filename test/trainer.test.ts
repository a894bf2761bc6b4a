// The trainer (compile/fit/evaluate/trainOnBatch): history and validation, seeded shuffling,
// option and data errors, learning on synthetic problems against closed-form answers, one
// training step against a float64 gradient derived here by hand, regularization, callbacks
// driving the loop, and memory held across epochs. Runs on each available backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, assertCloseAsync, randomValues, withBackendAsync } from './helpers.js';
import { collectGarbage } from './collect-garbage.js';
import { seededStream } from './seeded-tensor-helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first; the
// per-backend cases read with `await t.data()`, which every backend has.
await st.ready();
const BACKENDS = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);
const L = st.layers;

type Matrix = number[][];
const { nextSeed, uniform } = seededStream(23, -1, 1);
async function toRows(t: st.Tensor): Promise<Matrix> {
  const v = Array.from(await t.data()),
    c = t.rank === 1 ? 1 : t.shape[t.rank - 1];
  return Array.from({ length: v.length / c }, (_, i) => v.slice(i * c, (i + 1) * c));
}
const values = (m: st.Layer) => Promise.all(m.getWeights().map(async (w) => Array.from(await w.data())));
const transpose = (a: Matrix): Matrix => a[0].map((_, j) => a.map((r) => r[j]));
const matmul = (a: Matrix, b: Matrix): Matrix => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const colSums = (a: Matrix) => a[0].map((_, j) => a.reduce((s, r) => s + r[j], 0));

/** A model whose weights never change (frozen): x [n, 1] → x, so the mse against zeros is mean(x²). */
function identityModel(): st.Sequential {
  const m = st.sequential({ layers: [L.dense({ units: 1, inputShape: [1], kernelInitializer: 'ones' })] });
  m.trainable = false;
  m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse' });
  return m;
}
const column = (xs: number[]) => st.tensor(xs, [xs.length, 1]);
const meanSquare = (xs: number[]) => xs.reduce((s, v) => s + v * v, 0) / xs.length;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A small softmax classifier on 4 features. */
function classifier(): st.Sequential {
  const m = st.sequential({ layers: [L.dense({ units: 8, inputShape: [4], activation: 'relu' }), L.dense({ units: 3, activation: 'softmax' })] });
  m.compile({ optimizer: st.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}
const classes = (n: number) => st.tensor(randomValues(n, nextSeed(), 0, 3).map(Math.floor), [n], 'int32');

/** Runs `f` with stdout and stderr text captured (binary chunks, the test runner's, pass through). */
async function captureOutput(f: () => Promise<unknown>): Promise<string> {
  const out = process.stdout.write,
    err = process.stderr.write;
  let text = '';
  const capture = (original: typeof out, stream: NodeJS.WriteStream) =>
    ((chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk === 'string') {
        text += chunk;
        return true;
      }
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof out;
  process.stdout.write = capture(out, process.stdout);
  process.stderr.write = capture(err, process.stderr);
  try {
    await f();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return text;
}

for (const backend of BACKENDS) {
  describe(`compile and fit on the ${backend} backend`, () => {
    it('history has loss, accuracy, val_loss, val_accuracy per epoch; the last val_* equal evaluate', () =>
      withBackendAsync(backend, async () => {
        const m = classifier();
        const x = uniform([40, 4]),
          y = classes(40);
        const h = await m.fit(x, y, { epochs: 3, batchSize: 8, validationSplit: 0.25, verbose: 0 });
        assert.deepEqual(Object.keys(h.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
        for (const v of Object.values(h.history)) assert.equal(v.length, 3);
        assert.deepEqual(h.epoch, [0, 1, 2]);
        const val = await m.evaluate(st.slice(x, [30], [10]), st.slice(y, [30], [10]));
        assertClose([h.history.val_loss[2], h.history.val_accuracy[2]], [val.loss, val.accuracy], 1e-5, 1e-6);
      }));

    it('validationSplit holds out the last fraction, taken before shuffling and rounded as Keras', () =>
      withBackendAsync(backend, async () => {
        const xs = range(10);
        for (const [split, trainSize] of [
          [0.3, 7],
          [0.25, 7],
          [0.35, 6],
        ] as const) {
          const h = await identityModel().fit(column(xs), st.zeros([10, 1]), {
            epochs: 2,
            batchSize: 3,
            validationSplit: split,
            shuffle: true,
            verbose: 0,
          });
          const train = xs.slice(0, trainSize),
            val = xs.slice(trainSize);
          assertClose(h.history.loss, [meanSquare(train), meanSquare(train)], 1e-6, 1e-6, `loss, split ${split}`);
          assertClose(h.history.val_loss, [meanSquare(val), meanSquare(val)], 1e-6, 1e-6, `val_loss, split ${split}`);
        }
        await assert.rejects(identityModel().fit(column(xs), st.zeros([10, 1]), { validationSplit: 0.95, verbose: 0 }), st.ValueError);
        await assert.rejects(identityModel().fit(column(xs), st.zeros([10, 1]), { validationSplit: 1, verbose: 0 }), st.ValueError);
      }));

    it('validationData is evaluated after every epoch', () =>
      withBackendAsync(backend, async () => {
        const h = await identityModel().fit(column([1, 2]), st.zeros([2, 1]), {
          epochs: 2,
          verbose: 0,
          validationData: [column([3, 4, 5]), st.zeros([3, 1])],
        });
        assertClose(h.history.val_loss, [50 / 3, 50 / 3], 1e-6, 1e-6);
        const m = classifier();
        const vx = uniform([12, 4]),
          vy = classes(12);
        const h2 = await m.fit(uniform([24, 4]), classes(24), { epochs: 2, batchSize: 5, verbose: 0, validationData: { x: vx, y: vy } });
        const val = await m.evaluate(vx, vy);
        assertClose([h2.history.val_loss[1], h2.history.val_accuracy[1]], [val.loss, val.accuracy], 1e-5, 1e-6);
      }));

    it('st.setSeed makes initialization, shuffling and dropout reproducible', () =>
      withBackendAsync(backend, async () => {
        const x = uniform([20, 4]),
          y = classes(20);
        const run = async (shuffle: boolean) => {
          st.setSeed(1234);
          const m = st.sequential({
            layers: [
              L.dense({ units: 8, inputShape: [4], activation: 'relu' }),
              L.dropout({ rate: 0.3 }),
              L.dense({ units: 3, activation: 'softmax' }),
            ],
          });
          m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.2 }), loss: 'sparseCategoricalCrossentropy' });
          const h = await m.fit(x, y, { epochs: 3, batchSize: 4, shuffle, verbose: 0 });
          return { loss: h.history.loss, weights: await values(m) };
        };
        const first = await run(true),
          second = await run(true);
        assert.deepEqual(second, first);
        assert.notDeepEqual((await run(false)).loss, first.loss, 'the order of the batches matters');
      }));

    it('initialEpoch starts the epoch count there', () =>
      withBackendAsync(backend, async () => {
        const begun: number[] = [];
        const h = await identityModel().fit(column([1, 2, 3]), st.zeros([3, 1]), {
          epochs: 5,
          initialEpoch: 3,
          verbose: 0,
          callbacks: [{ onEpochBegin: (e) => void begun.push(e) }],
        });
        assert.deepEqual(begun, [3, 4]);
        assert.deepEqual(h.epoch, [3, 4]);
        assert.equal(h.history.loss.length, 2);
      }));

    it('verbose 0 prints nothing; verbose 2 prints a line per epoch', () =>
      withBackendAsync(backend, async () => {
        const m = classifier();
        const x = uniform([16, 4]),
          y = classes(16);
        const silent = await captureOutput(async () => {
          await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, validationSplit: 0.25 });
          await m.evaluate(x, y, { verbose: 0 });
          m.predict(x);
        });
        assert.equal(silent, '');
        const loud = await captureOutput(() => m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 2 }));
        assert.match(loud, /Epoch 1\/2[^\n]*loss: \d/);
        assert.match(loud, /Epoch 2\/2/);
      }));

    // On webgpu this found fit's finiteness probe passing bad data (SwiftShader folded x * 0 to 0);
    // the probe is max(|x|) now.
    it('fit refuses NaN and Infinity in the data, naming the tensor and the index', () =>
      withBackendAsync(backend, async () => {
        const m = identityModel();
        const x = uniform([5, 3]);
        const bad = Array.from(await x.data());
        bad[7] = NaN;
        const m3 = st.sequential({ layers: [L.dense({ units: 1, inputShape: [3] })] });
        m3.compile({ optimizer: 'sgd', loss: 'mse' });
        await assert.rejects(
          m3.fit(st.tensor(bad, [5, 3]), st.zeros([5, 1]), { verbose: 0 }),
          (e: Error) => e instanceof st.ValueError && /\bx\b/.test(e.message) && /NaN at index \[2, 1\]/.test(e.message),
        );
        await assert.rejects(
          m.fit(column([1, 2, 3, 4]), column([0, 0, 0, -Infinity]), { verbose: 0 }),
          (e: Error) => e instanceof st.ValueError && /\by\b/.test(e.message) && /-Infinity at index \[3, 0\]/.test(e.message),
        );
        await assert.rejects(
          m.fit(column([1, 2]), st.zeros([2, 1]), { verbose: 0, validationData: [column([Infinity]), st.zeros([1, 1])] }),
          st.ValueError,
        );
      }));

    it('a loss that becomes non-finite stops fit naming the epoch and batch, unless onNonFinite is continue', () =>
      withBackendAsync(backend, async () => {
        const x = uniform([64, 3], -10, 10);
        const y = st.sum(x, 1, true);
        const make = () => {
          const m = st.sequential({ layers: [L.dense({ units: 1, inputShape: [3] })] });
          m.compile({ optimizer: st.optimizers.sgd({ learningRate: 5 }), loss: 'mse' });
          return m;
        };
        let epoch = -1,
          batches = 0;
        const track = {
          onEpochBegin: (e: number) => {
            epoch = e;
            batches = 0;
          },
          onBatchEnd: () => void batches++,
        };
        await assert.rejects(make().fit(x, y, { epochs: 5, batchSize: 8, verbose: 0, shuffle: false, callbacks: [track] }), (e: Error) => {
          assert.ok(e instanceof st.ValueError);
          assert.match(e.message, new RegExp(`at epoch ${epoch + 1}, batch ${batches + 1}\\b`));
          return true;
        });
        const h = await make().fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, onNonFinite: 'continue' });
        assert.equal(h.history.loss.length, 2);
        assert.ok(!Number.isFinite(h.history.loss[1]));
      }));

    it('option and order errors: unknown fit option, compile without a loss, fit before compile', () =>
      withBackendAsync(backend, async () => {
        const x = column([1, 2]),
          y = st.zeros([2, 1]);
        await assert.rejects(
          identityModel().fit(x, y, { epochs: 1, epoch: 2 } as unknown as st.FitArgs),
          (e: Error) => e instanceof st.ValueError && /epoch/.test(e.message),
        );
        await assert.rejects(identityModel().fit(x, y, { batchSize: 0 }), st.ValueError);
        await assert.rejects(identityModel().fit(x, y, { validationBatchSize: 1.5, validationSplit: 0.5 }), st.ValueError);
        await assert.rejects(identityModel().fit(x, y, { verbose: 3 as 0 }), st.ValueError);
        const m = st.sequential({ layers: [L.dense({ units: 1, inputShape: [1] })] });
        assert.throws(
          () => m.compile({ optimizer: 'sgd' } as unknown as st.CompileArgs),
          (e: Error) => e instanceof st.ValueError && /loss/.test(e.message),
        );
        assert.throws(() => m.compile({ loss: 'mse', metric: ['mae'] } as unknown as st.CompileArgs), st.ValueError);
        assert.throws(() => m.compile({ loss: 'noSuchLoss' }), st.ValueError);
        for (const call of [() => m.fit(x, y), () => m.evaluate(x, y), () => m.trainOnBatch(x, y)]) {
          assert.throws(call, (e: Error) => e instanceof st.ValueError && /compile/.test(e.message));
        }
        m.compile({ loss: 'mse' });
        await assert.rejects(m.fit(column([1, 2, 3]), y, { verbose: 0 }), st.ShapeError);
      }));
  });

  describe(`learning on the ${backend} backend`, () => {
    it(
      'a small MLP separates the XOR quadrants',
      // 240 steps take 5 s on SwiftShader; learning to accuracy on webgpu is webgpu-training.test.ts's (MNIST).
      { skip: backend === 'webgpu' && 'slow on the software GPU; webgpu-training.test.ts trains to accuracy on webgpu' },
      () =>
        withBackendAsync(backend, async () => {
          const points = (n: number) => {
            const raw = randomValues(2 * n, nextSeed()).map((v) => Math.sign(v) * (0.15 + 0.85 * Math.abs(v)));
            const labels = range(n).map((i) => (raw[2 * i] * raw[2 * i + 1] > 0 ? 1 : 0));
            return { x: st.tensor(raw, [n, 2]), y: st.tensor(labels, [n], 'int32') };
          };
          st.setSeed(7);
          const m = st.sequential({
            layers: [L.dense({ units: 16, inputShape: [2], activation: 'relu' }), L.dense({ units: 2, activation: 'softmax' })],
          });
          m.compile({ optimizer: st.optimizers.adam({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
          const train = points(256),
            test = points(128);
          const h = await m.fit(train.x, train.y, { epochs: 30, batchSize: 32, verbose: 0 });
          assert.ok(h.history.loss[29] < h.history.loss[0] / 3, `loss ${h.history.loss[0]} → ${h.history.loss[29]}`);
          const { accuracy } = await m.evaluate(test.x, test.y);
          assert.ok(accuracy >= 0.95, `test accuracy ${accuracy}`);
        }),
    );

    it('linear regression with full-batch sgd converges to the least-squares solution', () =>
      withBackendAsync(backend, async () => {
        const n = 64;
        const x = uniform([n, 3]);
        const rows = await toRows(x),
          noise = randomValues(n, nextSeed(), -0.1, 0.1);
        const target = rows.map((r, i) => 1.5 * r[0] - 2 * r[1] + 0.5 * r[2] + 0.3 + noise[i]);
        // Normal equations for [x, 1] in float64, solved by Gaussian elimination.
        const a = rows.map((r) => [...r, 1]);
        const ata = matmul(transpose(a), a),
          atb = transpose(a).map((col) => col.reduce((s, v, i) => s + v * target[i], 0));
        const aug = ata.map((r, i) => [...r, atb[i]]);
        for (let c = 0; c < 4; c++) {
          for (let r = c + 1; r < 4; r++) {
            const f = aug[r][c] / aug[c][c];
            for (let k = c; k < 5; k++) aug[r][k] -= f * aug[c][k];
          }
        }
        const beta = [0, 0, 0, 0];
        for (let r = 3; r >= 0; r--) beta[r] = (aug[r][4] - aug[r].slice(r + 1, 4).reduce((s, v, k) => s + v * beta[r + 1 + k], 0)) / aug[r][r];
        const m = st.sequential({ layers: [L.dense({ units: 1, inputShape: [3] })] });
        m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.3 }), loss: 'mse' });
        await m.fit(x, st.tensor(target, [n, 1]), { epochs: 120, batchSize: n, verbose: 0 });
        const [kernel, bias] = await values(m);
        assertClose([...kernel, ...bias], beta, 1e-4, 1e-4);
      }));
  });

  describe(`one training step on the ${backend} backend`, () => {
    it('trainOnBatch with sgd and mse moves the weights by exactly -lr times the gradient', () =>
      withBackendAsync(backend, async () => {
        const dtype: st.DType = backend === 'reference' ? 'float64' : 'float32';
        const tol = dtype === 'float64' ? 1e-12 : 2e-5;
        const first = L.dense({ units: 5, inputShape: [4], activation: 'tanh', dtype });
        const second = L.dense({ units: 3, dtype });
        const m = st.sequential({ layers: [first, second] });
        const x = uniform([6, 4], -1, 1, dtype),
          y = uniform([6, 3], -1, 1, dtype);
        const [w1, b1, w2, b2] = await Promise.all(m.getWeights().map(toRows));
        const xs = await toRows(x),
          ys = await toRows(y);
        // forward: h = tanh(x w1 + b1), p = h w2 + b2; loss = mean((p - y)^2) over all 18 values
        const h = matmul(xs, w1).map((r) => r.map((v, j) => Math.tanh(v + b1[j][0])));
        const p = matmul(h, w2).map((r) => r.map((v, j) => v + b2[j][0]));
        const loss = p.flat().reduce((s, v, i) => s + (v - ys.flat()[i]) ** 2, 0) / 18;
        const dP = p.map((r, i) => r.map((v, j) => (2 * (v - ys[i][j])) / 18));
        const dW2 = matmul(transpose(h), dP),
          dB2 = colSums(dP);
        const dZ = matmul(dP, transpose(w2)).map((r, i) => r.map((v, j) => v * (1 - h[i][j] ** 2)));
        const dW1 = matmul(transpose(xs), dZ),
          dB1 = colSums(dZ);
        const lr = 0.1;
        m.compile({ optimizer: st.optimizers.sgd({ learningRate: lr }), loss: 'mse' });
        const logs = await m.trainOnBatch(x, y);
        assertClose(logs.loss, loss, tol, tol, 'reported loss (before the step)');
        const expected = [
          w1.flat().map((v, i) => v - lr * dW1.flat()[i]),
          b1.flat().map((v, i) => v - lr * dB1[i]),
          w2.flat().map((v, i) => v - lr * dW2.flat()[i]),
          b2.flat().map((v, i) => v - lr * dB2[i]),
        ];
        const after = m.getWeights();
        assert.deepEqual(
          after.map((w) => w.dtype),
          [dtype, dtype, dtype, dtype],
        );
        for (const [k, w] of after.entries()) await assertCloseAsync(w, expected[k], tol, tol, `weight ${k}`);
      }));

    it('an l2 kernel regularizer adds l2 * sum(w^2) to the loss and 2 * l2 * w to the gradient', () =>
      withBackendAsync(backend, async () => {
        const l2 = 0.05,
          lr = 0.1;
        const plain = st.sequential({ layers: [L.dense({ units: 3, inputShape: [4] })] });
        const regularized = st.sequential({ layers: [L.dense({ units: 3, inputShape: [4], kernelRegularizer: st.regularizers.l2({ l2 }) })] });
        regularized.setWeights(plain.getWeights());
        for (const m of [plain, regularized]) m.compile({ optimizer: st.optimizers.sgd({ learningRate: lr }), loss: 'mse' });
        const x = uniform([10, 4]),
          y = uniform([10, 3]);
        const kernel = Array.from(await plain.getWeights()[0].data());
        const penalty = l2 * kernel.reduce((s, v) => s + v * v, 0);
        const [e0, e1] = [await plain.evaluate(x, y), await regularized.evaluate(x, y)];
        assertClose(e1.loss - e0.loss, penalty, 1e-4, 1e-6, 'evaluate');
        const [t0, t1] = [await plain.trainOnBatch(x, y), await regularized.trainOnBatch(x, y)];
        assertClose(t1.loss - t0.loss, penalty, 1e-4, 1e-6, 'trainOnBatch');
        const [k0, b0] = await values(plain),
          [k1, b1] = await values(regularized);
        assertClose(
          k1,
          k0.map((v, i) => v - lr * 2 * l2 * kernel[i]),
          1e-5,
          1e-6,
          'kernel step',
        );
        assertClose(b1, b0, 1e-6, 1e-7, 'the bias is not regularized');
      }));
  });

  describe(`callbacks in fit on the ${backend} backend`, () => {
    it('earlyStopping with patience stops before the last epoch', () =>
      withBackendAsync(backend, async () => {
        const h = await identityModel().fit(column([1, 2, 3]), st.zeros([3, 1]), {
          epochs: 20,
          verbose: 0,
          callbacks: [st.callbacks.earlyStopping({ monitor: 'loss', patience: 2 })],
        });
        assert.equal(h.history.loss.length, 3, 'the first epoch sets the best; two without improvement stop');
      }));

    it('onBatchEnd sees the running mean of the loss and metrics over the samples so far', () =>
      withBackendAsync(backend, async () => {
        const m = st.sequential({ layers: [L.dense({ units: 2, inputShape: [3] })] });
        m.trainable = false;
        m.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
        const x = uniform([10, 3]),
          y = uniform([10, 2]);
        const err = (m.predict(x) as st.Tensor).sub(y);
        const errRows = await toRows(err);
        const sq = errRows.map((r) => r.reduce((s, v) => s + v * v, 0) / 2),
          ab = errRows.map((r) => r.reduce((s, v) => s + Math.abs(v), 0) / 2);
        const seen: [number, number, number][] = [];
        await m.fit(x, y, {
          epochs: 1,
          batchSize: 4,
          shuffle: false,
          verbose: 0,
          callbacks: [st.callbacks.lambdaCallback({ onBatchEnd: (b, logs) => void seen.push([b, logs!.loss, logs!.mae]) })],
        });
        const upTo = (v: number[], k: number) => v.slice(0, k).reduce((a, b) => a + b, 0) / k;
        assert.deepEqual(
          seen.map((s) => s[0]),
          [0, 1, 2],
        );
        assertClose(
          seen.map((s) => s[1]),
          [upTo(sq, 4), upTo(sq, 8), upTo(sq, 10)],
          1e-5,
          1e-6,
          'loss',
        );
        assertClose(
          seen.map((s) => s[2]),
          [upTo(ab, 4), upTo(ab, 8), upTo(ab, 10)],
          1e-5,
          1e-6,
          'mae',
        );
      }));

    it('evaluate, and validation in fit, call the test hooks with running logs', () =>
      withBackendAsync(backend, async () => {
        const m = identityModel();
        const events: string[] = [];
        const hooks: st.Callback = {
          onTestBegin: () => void events.push('begin'),
          onTestBatchEnd: (b, logs) => void events.push(`batch ${b}: ${logs!.loss}`),
          onTestEnd: (logs) => void events.push(`end: ${logs!.loss}`),
          onEpochEnd: (e) => void events.push(`epoch ${e}`),
        };
        const logs = await m.evaluate(column([1, 2, 3, 4, 5]), st.zeros([5, 1]), { batchSize: 2, callbacks: [hooks] });
        assert.equal(logs.loss, 11);
        assert.deepEqual(events, ['begin', `batch 0: ${5 / 2}`, `batch 1: ${30 / 4}`, 'batch 2: 11', 'end: 11']);
        events.length = 0;
        await m.fit(column([1, 2, 3, 4]), st.zeros([4, 1]), {
          epochs: 2,
          batchSize: 2,
          verbose: 0,
          validationData: [column([2]), st.zeros([1, 1])],
          callbacks: [hooks],
        });
        assert.deepEqual(events, ['begin', 'batch 0: 4', 'end: 4', 'epoch 0', 'begin', 'batch 0: 4', 'end: 4', 'epoch 1']);
        await assert.rejects(m.evaluate(column([1]), st.zeros([1, 1]), { verbose: 5 as 0 }), st.ValueError);
      }));

    it('learningRateScheduler sets the rate the optimizer uses each epoch', () =>
      withBackendAsync(backend, async () => {
        const m = st.sequential({ layers: [L.dense({ units: 1, inputShape: [2] })] });
        m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.5 }), loss: 'mse' });
        const rates = [0.1, 0, 0.05],
          seenRates: number[] = [],
          weightsAt: number[][][] = [];
        const h = await m.fit(uniform([8, 2]), uniform([8, 1]), {
          epochs: 3,
          batchSize: 4,
          verbose: 0,
          callbacks: [
            st.callbacks.learningRateScheduler((epoch) => rates[epoch]),
            {
              onEpochEnd: async () => {
                seenRates.push(m.optimizer!.learningRate as number);
                weightsAt.push(await values(m));
              },
            },
          ],
        });
        assert.deepEqual(seenRates, rates);
        assertClose(h.history.learning_rate, rates, 1e-7, 0);
        assert.deepEqual(weightsAt[1], weightsAt[0], 'a rate of 0 leaves the weights');
        assert.notDeepEqual(weightsAt[2], weightsAt[1]);
      }));

    it('model.stopTraining set by a callback ends fit after that batch', () =>
      withBackendAsync(backend, async () => {
        const m = identityModel();
        const batches: [number, number][] = [];
        let epoch = 0;
        const h = await m.fit(column(range(12)), st.zeros([12, 1]), {
          epochs: 10,
          batchSize: 4,
          verbose: 0,
          callbacks: [
            {
              onEpochBegin: (e) => void (epoch = e),
              onBatchEnd: (b) => {
                batches.push([epoch, b]);
                if (epoch === 1 && b === 0) m.stopTraining = true;
              },
            },
          ],
        });
        assert.deepEqual(batches, [
          [0, 0],
          [0, 1],
          [0, 2],
          [1, 0],
        ]);
        assert.equal(h.history.loss.length, 2);
      }));
  });
}

describe('memory across epochs on the native backend', { skip: BACKENDS.includes('native') ? false : 'native backend unavailable' }, () => {
  it('live storage does not grow epoch over epoch', () =>
    withBackendAsync('native', async () => {
      const m = st.sequential({
        layers: [L.dense({ units: 32, inputShape: [8], activation: 'relu' }), L.dropout({ rate: 0.2 }), L.dense({ units: 3, activation: 'softmax' })],
      });
      m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const counts: number[] = [];
      await m.fit(uniform([96, 8]), classes(96), {
        epochs: 6,
        batchSize: 16,
        validationSplit: 0.25,
        verbose: 0,
        callbacks: [
          {
            onEpochEnd: () => {
              collectGarbage();
              counts.push(st.memory().native.tensors);
            },
          },
        ],
      });
      assert.ok(counts[4] - counts[1] <= 2, `live tensors after each epoch: ${counts.join(', ')}`);
    }));

  it('a training step frees its activations at once, not at the next garbage collection', () =>
    withBackendAsync('native', async () => {
      const m = st.sequential({
        layers: [L.dense({ units: 128, inputShape: [4], activation: 'relu' }), L.dense({ units: 128, activation: 'relu' }), L.dense({ units: 1 })],
      });
      m.compile({ optimizer: 'sgd', loss: 'mse' });
      const x = uniform([512, 4]),
        y = uniform([512, 1]);
      await m.trainOnBatch(x, y);
      collectGarbage();
      const activationBytes = 512 * 128 * 4; // the step makes about ten of these, forward and backward
      for (let i = 0; i < 3; i++) {
        const before = st.memory().native.bytes;
        await m.trainOnBatch(x, y);
        const grown = st.memory().native.bytes - before;
        assert.ok(grown < activationBytes, `step ${i} left ${grown} bytes (one activation is ${activationBytes})`);
      }
    }));
});
