// Streaming metrics on each backend against float64 references in plain JavaScript (here and in
// test/metric-test-helpers.ts; float64 inputs are in test/metrics-float64.test.ts). Every metric
// is fed several batches of different sizes and compared with the value over the whole dataset,
// so streaming must equal the one-shot computation. Inputs are float32 tensors; references read
// the tensors' float32 values back, so both sides see identical numbers. Runs on each backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { isGradEnabled } from '../src/tensor/tape.js';
import { type AutoAccuracy, type Metric, getMetric, metrics, type AucOptions } from '../src/metrics/index.js';
import { assertClose, randomValues, withBackendAsync } from './helpers.js';
import {
  BATCH_SIZES,
  type Batch,
  confusionAt,
  errors,
  fetchValues,
  meanOf,
  nextSeed,
  referenceAuc,
  rows,
  safeDiv,
  uniform,
  values,
} from './metric-test-helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first; the
// per-backend cases read with `await t.data()` and `await metric.resultAsync()`, which every backend has.
await st.ready();
const backendNames = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);

// ---- data ------------------------------------------------------------------------------------

const bits = (shape: number[], dtype: st.DType = 'float32') =>
  st.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      nextSeed(),
    ).map((v) => (v > 0 ? 1 : 0)),
    shape,
    dtype,
  );
const labelsOf = (n: number, classes: number, dtype: st.DType = 'int32') =>
  st.tensor(randomValues(n, nextSeed(), 0, classes).map(Math.floor), [n], dtype);
const oneHotRows = (labels: number[], classes: number) =>
  st.tensor(
    labels.flatMap((l) => Array.from({ length: classes }, (_, c) => (c === l ? 1 : 0))),
    [labels.length, classes],
  );
const valuesAsync = async (t: st.Tensor) => {
  await fetchValues(t);
  return values(t);
};
/** A metric's per-threshold results, settled first (a backend without synchronous reads needs it). */
const resultsAsync = async (m: { settle(): Promise<void>; results(): number[] }) => {
  await m.settle();
  return m.results();
};

const argMaxOf = (row: number[]) => row.reduce((best, x, i) => (x > row[best] ? i : best), 0);

/** Feeds every batch and checks the streamed value against the weighted mean of per-sample values. */
async function checkStreamingMean(
  metric: Metric,
  batches: Batch[],
  perSample: (b: Batch) => number[],
  transform = (x: number) => x,
  what = metric.name,
): Promise<void> {
  let total = 0,
    count = 0;
  for (const b of batches) {
    await fetchValues(b.yTrue, b.yPred, b.weight);
    metric.update(b.yTrue, b.yPred, b.weight);
    const v = perSample(b),
      w = b.weight ? values(b.weight) : v.map(() => 1);
    v.forEach((x, i) => {
      total += x * w[i];
      count += w[i];
    });
  }
  assertClose(await metric.resultAsync(), transform(total / count), 1e-5, 1e-6, what);
}

// ---- references --------------------------------------------------------------------------------

const binaryHits = (threshold: number) => (b: Batch) =>
  rows(b.yPred).map((p, i) => meanOf(p.map((x, j) => ((x > Math.fround(threshold) ? 1 : 0) === rows(b.yTrue)[i][j] ? 1 : 0))));
const categoricalHits = (b: Batch) => rows(b.yPred).map((p, i) => (argMaxOf(p) === argMaxOf(rows(b.yTrue)[i]) ? 1 : 0));
const sparseHits = (b: Batch) => rows(b.yPred).map((p, i) => (argMaxOf(p) === values(b.yTrue)[i] ? 1 : 0));
const topKHits = (k: number, labels: (b: Batch) => number[]) => (b: Batch) =>
  rows(b.yPred).map((p, i) => {
    const l = labels(b)[i];
    return l >= 0 && l < p.length && p.filter((x) => x > p[l]).length < k ? 1 : 0;
  });

/** The exact ROC AUC: the probability that a positive outscores a negative (ties count half). */
function rankAuc(preds: number[], labels: number[]): number {
  const pos = preds.filter((_, i) => labels[i] === 1),
    neg = preds.filter((_, i) => labels[i] === 0);
  let wins = 0;
  for (const p of pos) for (const q of neg) wins += p > q ? 1 : p === q ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

// ---- tests -------------------------------------------------------------------------------------

for (const backend of backendNames) {
  const run = (f: () => Promise<void>) => () => withBackendAsync(backend, f);

  describe(`metrics on ${backend}`, () => {
    it(
      'binaryAccuracy: threshold, multi-output rows, reset',
      run(async () => {
        for (const threshold of [0.5, 0.3]) {
          for (const width of [1, 3]) {
            const batches = BATCH_SIZES.map((n) => ({ yTrue: bits([n, width]), yPred: uniform([n, width]) }));
            const m = metrics.binaryAccuracy({ threshold });
            await checkStreamingMean(m, batches, binaryHits(threshold), undefined, `threshold ${threshold}, width ${width}`);
            m.reset();
            assert.equal(await m.resultAsync(), 0);
            await checkStreamingMean(m, batches.slice(1, 2), binaryHits(threshold), undefined, 'after reset');
          }
        }
        // Rank-1 labels against [n, 1] predictions, and bool labels.
        const yPred = uniform([20, 1]),
          yTrue = bits([20], 'bool');
        const m = metrics.binaryAccuracy();
        m.update(yTrue, yPred);
        await fetchValues(yTrue, yPred);
        const expected = meanOf(values(yPred).map((p, i) => (p > 0.5 === (values(yTrue)[i] === 1) ? 1 : 0)));
        assertClose(await m.resultAsync(), expected);
      }),
    );

    it(
      'categoricalAccuracy and sparseCategoricalAccuracy (int and float labels, [N] and [N, 1])',
      run(async () => {
        const classes = 6;
        const labelSets = await Promise.all(BATCH_SIZES.map((n) => valuesAsync(labelsOf(n, classes))));
        const preds = BATCH_SIZES.map((n) => uniform([n, classes]));
        await checkStreamingMean(
          metrics.categoricalAccuracy(),
          labelSets.map((l, i) => ({ yTrue: oneHotRows(l, classes), yPred: preds[i] })),
          categoricalHits,
        );
        await checkStreamingMean(
          metrics.sparseCategoricalAccuracy(),
          labelSets.map((l, i) => ({ yTrue: st.tensor(l, [l.length], 'int32'), yPred: preds[i] })),
          sparseHits,
        );
        await checkStreamingMean(
          metrics.sparseCategoricalAccuracy(),
          labelSets.map((l, i) => ({ yTrue: st.tensor(l, [l.length, 1]), yPred: preds[i] })),
          sparseHits,
          undefined,
          'float [N, 1] labels',
        );
        // Fractional labels never match an index.
        const m = metrics.sparseCategoricalAccuracy();
        m.update(
          st.tensor([0.5, 1]),
          st.tensor([
            [0.9, 0.1],
            [0.2, 0.8],
          ]),
        );
        assert.equal(await m.resultAsync(), 0.5);
      }),
    );

    it(
      'top-k accuracy: sparse and one-hot, default k = 5, ties and out-of-range labels',
      run(async () => {
        const classes = 10;
        const labelSets = await Promise.all(BATCH_SIZES.map((n) => valuesAsync(labelsOf(n, classes))));
        const preds = BATCH_SIZES.map((n) => uniform([n, classes]));
        for (const k of [undefined, 3]) {
          const kk = k ?? 5;
          await checkStreamingMean(
            metrics.sparseTopKCategoricalAccuracy(k === undefined ? {} : { k }),
            labelSets.map((l, i) => ({ yTrue: st.tensor(l, [l.length], 'int32'), yPred: preds[i] })),
            topKHits(kk, (b) => values(b.yTrue)),
            undefined,
            `sparse k=${kk}`,
          );
          await checkStreamingMean(
            metrics.topKCategoricalAccuracy(k === undefined ? {} : { k }),
            labelSets.map((l, i) => ({ yTrue: oneHotRows(l, classes), yPred: preds[i] })),
            topKHits(kk, (b) => rows(b.yTrue).map(argMaxOf)),
            undefined,
            `one-hot k=${kk}`,
          );
        }
        // Ties at the boundary count as hits (fewer than k strictly higher); label 7 is out of range.
        const m = metrics.sparseTopKCategoricalAccuracy({ k: 1 });
        m.update(
          st.tensor([2, 3, 7], [3], 'int32'),
          st.tensor([
            [0.5, 0.5, 0.5, 0.1],
            [0.5, 0.5, 0.5, 0.1],
            [1, 0, 0, 0],
          ]),
        );
        assert.equal(await m.resultAsync(), 1 / 3);
      }),
    );

    it(
      'mse, mae, rmse: per-sample mean over the last axis, averaged over samples',
      run(async () => {
        const batches = BATCH_SIZES.map((n) => ({ yTrue: uniform([n, 4], -2, 2), yPred: uniform([n, 4], -2, 2) }));
        await checkStreamingMean(
          metrics.meanSquaredError(),
          batches,
          errors((d) => d * d),
        );
        await checkStreamingMean(
          metrics.mse(),
          batches,
          errors((d) => d * d),
          undefined,
          'mse alias',
        );
        await checkStreamingMean(metrics.meanAbsoluteError(), batches, errors(Math.abs));
        await checkStreamingMean(
          metrics.rootMeanSquaredError(),
          batches,
          errors((d) => d * d),
          Math.sqrt,
        );
        // [N] labels against [N, 1] predictions.
        const flatBatches = BATCH_SIZES.map((n) => ({ yTrue: uniform([n]), yPred: uniform([n, 1]) }));
        await checkStreamingMean(
          metrics.mae(),
          flatBatches,
          (b) => values(b.yPred).map((p, i) => Math.abs(p - values(b.yTrue)[i])),
          undefined,
          '[N] vs [N, 1]',
        );
      }),
    );

    it(
      'sampleWeight gives the weighted average (accuracy, mse, mae, function metrics)',
      run(async () => {
        const classes = 4;
        const batches = BATCH_SIZES.map((n) => ({ yTrue: labelsOf(n, classes), yPred: uniform([n, classes]), weight: uniform([n], 0, 2) }));
        await checkStreamingMean(metrics.sparseCategoricalAccuracy(), batches, sparseHits, undefined, 'weighted accuracy');
        const reg = BATCH_SIZES.map((n) => ({ yTrue: uniform([n, 3]), yPred: uniform([n, 3]), weight: uniform([n], 0, 2) }));
        await checkStreamingMean(
          metrics.meanSquaredError(),
          reg,
          errors((d) => d * d),
          undefined,
          'weighted mse',
        );
        // Weights shaped [N, 1] act per sample too.
        const reg1 = reg.map((b) => ({ ...b, weight: b.weight.reshape([b.weight.shape[0], 1]) }));
        await checkStreamingMean(metrics.meanAbsoluteError(), reg1, errors(Math.abs), undefined, 'weighted mae, [N, 1] weights');
        const fn = function absDiff(t: st.Tensor, p: st.Tensor) {
          return p.sub(t).abs().mean(-1);
        };
        await checkStreamingMean(getMetric(fn), reg, errors(Math.abs), undefined, 'weighted function metric');
      }),
    );

    it(
      'mean: running weighted mean of values; a scalar weight weighs a scalar (the loss tracker)',
      run(async () => {
        const m = metrics.mean();
        const losses = [0.5, 1.25, 2],
          sizes = [32, 32, 7];
        losses.forEach((l, i) => m.updateValues(st.tensor(l), sizes[i]));
        assertClose(await m.resultAsync(), (0.5 * 32 + 1.25 * 32 + 2 * 7) / 71);
        m.reset();
        assert.equal(await m.resultAsync(), 0);
        const v = uniform([10]),
          w = uniform([10], 0, 1);
        m.updateValues(v, w);
        m.updateValues(st.tensor(3));
        const vv = await valuesAsync(v),
          ww = await valuesAsync(w);
        assertClose(await m.resultAsync(), (vv.reduce((a, x, i) => a + x * ww[i], 0) + 3) / (ww.reduce((a, b) => a + b, 0) + 1));
        assert.throws(() => m.update(v, v), st.ValueError);
      }),
    );

    it(
      'precision and recall: several thresholds, weights, classId',
      run(async () => {
        const thresholds = [0.2, 0.5, 0.7];
        const batches = BATCH_SIZES.map((n) => ({ yTrue: bits([n, 3]), yPred: uniform([n, 3]), weight: uniform([n], 0, 2) }));
        for (const weighted of [false, true]) {
          for (const classId of [undefined, 1]) {
            const options = { thresholds, ...(classId === undefined ? {} : { classId }) };
            const p = metrics.precision(options),
              r = metrics.recall(options);
            const preds: number[] = [],
              labels: number[] = [],
              weights: number[] = [];
            for (const b of batches) {
              p.update(b.yTrue, b.yPred, weighted ? b.weight : undefined);
              r.update(b.yTrue, b.yPred, weighted ? b.weight : undefined);
              await fetchValues(b.yTrue, b.yPred, b.weight);
              const pr = rows(b.yPred),
                lr = rows(b.yTrue),
                wv = values(b.weight);
              pr.forEach((row, i) =>
                row.forEach((x, j) => {
                  if (classId !== undefined && j !== classId) return;
                  preds.push(x);
                  labels.push(lr[i][j]);
                  weights.push(weighted ? wv[i] : 1);
                }),
              );
            }
            const c = confusionAt(thresholds.map(Math.fround), preds, labels, weights, false);
            const what = `weighted ${weighted}, classId ${classId}`;
            assertClose(
              await resultsAsync(p),
              c.map((x) => safeDiv(x.tp, x.tp + x.fp)),
              1e-5,
              1e-7,
              `precision ${what}`,
            );
            assertClose(
              await resultsAsync(r),
              c.map((x) => safeDiv(x.tp, x.tp + x.fn)),
              1e-5,
              1e-7,
              `recall ${what}`,
            );
            assertClose(await r.resultAsync(), safeDiv(c[0].tp, c[0].tp + c[0].fn), 1e-5, 1e-7, `recall result() ${what}`);
          }
        }
        const p = metrics.precision();
        assert.equal(await p.resultAsync(), 0);
        p.update(st.tensor([1, 0, 1, 0]), st.tensor([0.9, 0.8, 0.1, 0.5]));
        assert.equal(await p.resultAsync(), 0.5, 'a prediction equal to the threshold is negative');
        p.reset();
        assert.equal(await p.resultAsync(), 0);
      }),
    );

    it(
      'auc: Keras thresholded ROC/PR sums, streamed and weighted',
      run(async () => {
        const batches = BATCH_SIZES.map((n) => ({ yTrue: bits([n]), yPred: uniform([n]), weight: uniform([n], 0, 2) }));
        const cases: { options: AucOptions; ref: { n?: number; curve?: 'ROC' | 'PR'; summation?: string } }[] = [
          { options: {}, ref: {} },
          { options: { curve: 'PR' }, ref: { curve: 'PR' } },
          { options: { summationMethod: 'minoring' }, ref: { summation: 'minoring' } },
          { options: { curve: 'PR', summationMethod: 'majoring', numThresholds: 50 }, ref: { curve: 'PR', summation: 'majoring', n: 50 } },
        ];
        for (const { options, ref } of cases) {
          for (const weighted of [false, true]) {
            const m = metrics.auc(options);
            const preds: number[] = [],
              labels: number[] = [],
              weights: number[] = [];
            for (const b of batches) {
              m.update(b.yTrue, b.yPred, weighted ? b.weight : undefined);
              await fetchValues(b.yTrue, b.yPred, b.weight);
              preds.push(...values(b.yPred));
              labels.push(...values(b.yTrue));
              weights.push(...(weighted ? values(b.weight) : values(b.yPred).map(() => 1)));
            }
            // Counts are exact; weighted label mass is summed per batch on the backend in float32 (as Keras does), then in float64.
            const rtol = weighted ? 1e-6 : 1e-10;
            assertClose(
              await m.resultAsync(),
              referenceAuc(preds, labels, weights, ref),
              rtol,
              1e-12,
              `${JSON.stringify(options)} weighted ${weighted}`,
            );
          }
        }
        // Predictions exactly on a threshold are negative there (p > t), including 0 and 1 at the ends.
        const onGrid = [0, 0.25, 0.5, 0.75, 1, 0.5, 0.25, 0.75],
          gridLabels = [0, 1, 0, 1, 1, 1, 0, 0];
        for (const curve of ['ROC', 'PR'] as const) {
          const g = metrics.auc({ numThresholds: 5, curve });
          g.update(st.tensor(gridLabels), st.tensor(onGrid));
          assertClose(
            await g.resultAsync(),
            referenceAuc(
              onGrid,
              gridLabels,
              onGrid.map(() => 1),
              { n: 5, curve },
            ),
            1e-12,
            1e-14,
            `on-grid ${curve}`,
          );
        }
        const m = metrics.auc();
        assert.equal(await m.resultAsync(), 0);
        m.update(batches[0].yTrue, batches[0].yPred);
        m.reset();
        assert.equal(await m.resultAsync(), 0);
      }),
    );

    it(
      'auc: within 0.01 of the exact rank-based ROC AUC on 1000 samples; fromLogits',
      run(async () => {
        const n = 1000;
        const labels = await valuesAsync(bits([n]));
        const noise = randomValues(n, nextSeed(), -2, 2);
        const logits = labels.map((l, i) => noise[i] + 1.5 * l);
        const probs = st.sigmoid(st.tensor(logits));
        const m = metrics.auc();
        for (let start = 0; start < n; start += 250) {
          m.update(st.tensor(labels.slice(start, start + 250)), probs.slice([start], [250]));
        }
        const exact = rankAuc(await valuesAsync(probs), labels);
        assert.ok(exact > 0.75 && exact < 0.95, `informative scores (exact AUC ${exact})`);
        assert.ok(Math.abs((await m.resultAsync()) - exact) < 0.01, `AUC ${await m.resultAsync()} vs exact ${exact}`);
        const fromLogits = metrics.auc({ fromLogits: true });
        fromLogits.update(st.tensor(labels), st.tensor(logits));
        assertClose(await fromLogits.resultAsync(), await m.resultAsync(), 1e-6, 1e-6, 'fromLogits');
      }),
    );

    it(
      'getMetric: names, aliases, snake_case, instances and functions',
      run(async () => {
        const yTrue = uniform([12, 2]),
          yPred = uniform([12, 2]);
        await fetchValues(yTrue, yPred);
        for (const [id, ref] of [
          ['mse', (d: number) => d * d],
          ['mean_squared_error', (d: number) => d * d],
          ['meanAbsoluteError', Math.abs],
          ['mae', Math.abs],
        ] as const) {
          const m = getMetric(id);
          assert.equal(m.name, id);
          m.update(yTrue, yPred);
          assertClose(await m.resultAsync(), meanOf(errors(ref)({ yTrue, yPred })), 1e-5, 1e-6, id);
        }
        for (const id of [
          'precision',
          'recall',
          'auc',
          'binary_accuracy',
          'sparseCategoricalAccuracy',
          'top_k_categorical_accuracy',
          'rootMeanSquaredError',
        ]) {
          assert.equal(getMetric(id).name, id);
        }
        const instance = metrics.auc({ name: 'roc' });
        assert.equal(getMetric(instance), instance);
        assert.equal(instance.name, 'roc');
        const named = getMetric(function maxError(t: st.Tensor, p: st.Tensor) {
          return p.sub(t).abs().max(-1);
        });
        assert.equal(named.name, 'maxError');
        named.update(yTrue, yPred);
        assertClose(await named.resultAsync(), meanOf(rows(yPred).map((p, i) => Math.max(...p.map((x, j) => Math.abs(x - rows(yTrue)[i][j]))))));
        assert.equal(getMetric((t: st.Tensor, p: st.Tensor) => p.sub(t)).name.length > 0, true);
        assert.throws(
          () => getMetric('accuracyy'),
          (e: Error) => e instanceof st.ValueError && /accuracyy/.test(e.message) && /sparseCategoricalAccuracy/.test(e.message),
        );
      }),
    );

    it(
      "getMetric('accuracy'): variant from the loss, else from the shapes; the name is kept",
      run(async () => {
        const byLoss: [string, string][] = [
          ['sparseCategoricalCrossentropy', 'sparse'],
          ['categorical_crossentropy', 'categorical'],
          ['binaryCrossentropy', 'binary'],
        ];
        for (const [loss, variant] of byLoss) {
          const m = getMetric('acc', loss) as AutoAccuracy;
          assert.equal(m.name, 'acc');
          assert.equal(m.variant, variant, loss);
        }
        const probs = uniform([8, 3]),
          labels = labelsOf(8, 3);
        await fetchValues(labels);
        const shapes: [st.Tensor, st.Tensor, string, (b: Batch) => number[]][] = [
          [bits([8, 1]), uniform([8, 1]), 'binary', binaryHits(0.5)],
          [oneHotRows(values(labels), 3), probs, 'categorical', categoricalHits],
          [labels, probs, 'sparse', sparseHits],
          [labels.reshape([8, 1]), probs, 'sparse', sparseHits],
        ];
        for (const [yTrue, yPred, variant, hits] of shapes) {
          const m = getMetric('accuracy', 'meanSquaredError') as AutoAccuracy;
          assert.equal(m.variant, undefined);
          m.update(yTrue, yPred);
          await fetchValues(yTrue, yPred);
          assert.equal(m.name, 'accuracy');
          assert.equal(m.variant, variant);
          assertClose(await m.resultAsync(), meanOf(hits({ yTrue, yPred })), 1e-6, 1e-7, variant);
        }
        // The loss decides even where the shapes would say otherwise: one-hot rows read as 2 sparse labels fail loudly.
        const forced = getMetric('accuracy', 'sparse_categorical_crossentropy');
        assert.throws(() => forced.update(oneHotRows(values(labels), 3), probs), st.ShapeError);
      }),
    );

    it(
      'errors name the metric and both shapes; unknown options are rejected',
      run(async () => {
        const cases: [Metric, st.Tensor, st.Tensor][] = [
          [metrics.binaryAccuracy(), uniform([4, 1]), uniform([5, 1])],
          [metrics.categoricalAccuracy(), uniform([4, 3]), uniform([4, 2])],
          [metrics.sparseCategoricalAccuracy(), labelsOf(5, 3), uniform([4, 3])],
          [metrics.meanSquaredError(), uniform([4, 2]), uniform([4, 3])],
          [metrics.precision(), uniform([4]), uniform([6])],
          [metrics.auc(), uniform([4]), uniform([3])],
        ];
        for (const [m, t, p] of cases) {
          assert.throws(
            () => m.update(t, p),
            (e: Error) =>
              e instanceof st.ShapeError &&
              e.message.startsWith(m.name) &&
              e.message.includes(`[${t.shape.join(', ')}]`) &&
              e.message.includes(`[${p.shape.join(', ')}]`),
            m.name,
          );
        }
        assert.throws(
          () => metrics.meanSquaredError().update(uniform([4, 2]), uniform([4, 2]), uniform([3])),
          (e: Error) => e instanceof st.ShapeError && e.message.includes('[3]'),
        );
        assert.throws(() => metrics.recall().update(uniform([4]), uniform([4]), uniform([5])), st.ShapeError);
        assert.throws(() => metrics.auc({ numTresholds: 10 } as AucOptions), st.ValueError);
        assert.throws(() => metrics.auc({ curve: 'roc' as 'ROC' }), st.ValueError);
        assert.throws(() => metrics.precision({ thresholds: [0.5, 1.5] }), st.ValueError);
        assert.throws(() => metrics.topKCategoricalAccuracy({ k: 0 }), st.ValueError);
        assert.throws(() => metrics.recall({ classId: 3 }).update(uniform([2, 3]), uniform([2, 3])), st.ValueError);
      }),
    );

    it(
      'updates record nothing on the tape, even for a yPred that requires grad',
      run(async () => {
        let seen: boolean | undefined;
        const probe = getMetric(function probe(t: st.Tensor, p: st.Tensor) {
          seen = isGradEnabled();
          return p.sub(t).square().mean(-1);
        });
        const w = st.variable(uniform([6, 2]));
        probe.update(uniform([6, 2]), w.mul(2));
        assert.equal(seen, false);
        assert.equal(isGradEnabled(), true);
      }),
    );
  });
}
