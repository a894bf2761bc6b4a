// Keras's metric options on each backend: precision/recall topK and classId, multi-label AUC with
// labelWeights. References are computed here in float64 from the float32 values the tensors hold,
// independently of src/. Sample and class weights in training are in test/sample-weights.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { metrics } from '../src/metrics/index.js';
import { assertClose, randomValues, withBackendAsync } from './helpers.js';
import { count, nextSeed, rows, sumOf, uniform, values } from './seeded-tensor-helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first; the
// per-backend cases read with `await t.data()` and `await metric.resultAsync()`, which every backend has.
await st.ready();
const backendNames = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);

const bits = (shape: number[]) =>
  st.tensor(
    randomValues(count(shape), nextSeed()).map((v) => (v > 0 ? 1 : 0)),
    shape,
  );
/** A metric's per-threshold results, settled first (a backend without synchronous reads needs it). */
const resultsAsync = async (m: { settle(): Promise<void>; results(): number[] }) => {
  await m.settle();
  return m.results();
};
const safeDiv = (a: number, b: number) => (b === 0 ? 0 : a / b);

// ---- metric references ---------------------------------------------------------------------------

/** Indices of the k largest entries of a row, ties to the lower index (what top_k returns). */
function topKSet(row: number[], k: number): Set<number> {
  const order = row.map((_, i) => i).sort((a, b) => row[b] - row[a] || a - b);
  return new Set(order.slice(0, k));
}

/** tp, fp, fn at one threshold by direct comparison, with Keras's topK then classId order. */
function confusionTopK(
  yTrue: number[][],
  yPred: number[][],
  weights: number[],
  threshold: number,
  k: number | undefined,
  classId: number | undefined,
) {
  let tp = 0,
    fp = 0,
    fn = 0;
  yPred.forEach((row, i) => {
    const candidates = k === undefined ? undefined : topKSet(row, k);
    row.forEach((p, j) => {
      if (classId !== undefined && j !== classId) return;
      const predicted = p > threshold && (candidates === undefined || candidates.has(j));
      const actual = yTrue[i][j] !== 0;
      if (predicted && actual) tp += weights[i];
      else if (predicted) fp += weights[i];
      else if (actual) fn += weights[i];
    });
  });
  return { tp, fp, fn };
}

/** Keras's thresholds and one ROC (trapezoid) or PR ('minoring') area, by direct counting. */
function thresholdAuc(preds: number[], labels: number[], weights: number[], curve: 'ROC' | 'PR', n = 200): number {
  const thresholds = [-1e-7, ...Array.from({ length: n - 2 }, (_, i) => (i + 1) / (n - 1)), 1 + 1e-7];
  const counts = thresholds.map((t) => {
    let tp = 0,
      fp = 0,
      fn = 0,
      tn = 0;
    preds.forEach((p, i) => {
      const y = labels[i],
        w = weights[i];
      if (p > t) {
        tp += y * w;
        fp += (1 - y) * w;
      } else {
        fn += y * w;
        tn += (1 - y) * w;
      }
    });
    return { tp, fp, fn, tn };
  });
  let area = 0;
  for (let j = 0; j + 1 < n; j++) {
    const a = counts[j],
      b = counts[j + 1];
    if (curve === 'ROC') {
      const dx = safeDiv(a.fp, a.fp + a.tn) - safeDiv(b.fp, b.fp + b.tn);
      area += (dx * (safeDiv(a.tp, a.tp + a.fn) + safeDiv(b.tp, b.tp + b.fn))) / 2;
    } else {
      const dx = safeDiv(a.tp, a.tp + a.fn) - safeDiv(b.tp, b.tp + b.fn);
      area += dx * Math.min(safeDiv(a.tp, a.tp + a.fp), safeDiv(b.tp, b.tp + b.fp));
    }
  }
  return area;
}

/** The exact ROC AUC of one label: the weighted chance that a positive outscores a negative (ties half). */
function rankAuc(preds: number[], labels: number[]): number {
  let wins = 0,
    pairs = 0;
  preds.forEach((p, i) => {
    if (labels[i] !== 1) return;
    preds.forEach((q, j) => {
      if (labels[j] !== 0) return;
      wins += p > q ? 1 : p === q ? 0.5 : 0;
      pairs++;
    });
  });
  return wins / pairs;
}

for (const backend of backendNames) {
  const run = (f: () => Promise<void>) => () => withBackendAsync(backend, f);

  describe(`metric options on ${backend}`, () => {
    it(
      'precision/recall topK (with and without thresholds, classId, weights) match direct counts',
      run(async () => {
        const batches = [13, 20, 7].map((n) => ({ yTrue: bits([n, 5]), yPred: uniform([n, 5]), weight: uniform([n], 0, 2) }));
        for (const k of [1, 2, 4]) {
          for (const classId of [undefined, 3]) {
            for (const thresholds of [undefined, [0.3, 0.6]]) {
              for (const weighted of [false, true]) {
                const options = { topK: k, ...(classId === undefined ? {} : { classId }), ...(thresholds ? { thresholds } : {}) };
                const p = metrics.precision(options),
                  r = metrics.recall(options);
                const yTrue: number[][] = [],
                  yPred: number[][] = [],
                  weights: number[] = [];
                for (const b of batches) {
                  p.update(b.yTrue, b.yPred, weighted ? b.weight : undefined);
                  r.update(b.yTrue, b.yPred, weighted ? b.weight : undefined);
                  yTrue.push(...(await rows(b.yTrue)));
                  yPred.push(...(await rows(b.yPred)));
                  weights.push(...(await values(b.weight)).map((w) => (weighted ? w : 1)));
                }
                // Without thresholds, topK's threshold is Keras's NEG_INF: every top-k score is positive.
                const ts = (thresholds ?? [-1e10]).map(Math.fround);
                const c = ts.map((t) => confusionTopK(yTrue, yPred, weights, t, k, classId));
                const what = `k ${k}, classId ${classId}, thresholds ${thresholds}, weighted ${weighted}`;
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
              }
            }
          }
        }
      }),
    );

    it(
      'precision and recall topK rank NaN below every score',
      run(async () => {
        // topK 1 takes index 1 (0.2), not the NaN at index 0: one true positive, nothing missed.
        const p = metrics.precision({ topK: 1 });
        const r = metrics.recall({ topK: 1 });
        for (const m of [p, r]) m.update(st.tensor([[0, 1, 0]]), st.tensor([[Number.NaN, 0.2, 0.1]]));
        assert.equal(await p.resultAsync(), 1);
        assert.equal(await r.resultAsync(), 1);
      }),
    );

    it(
      'precision topK: ties go to the lower index; config round trip; bad topK rejected',
      run(async () => {
        const p = metrics.precision({ topK: 2 });
        const r = metrics.recall({ topK: 2 });
        const labels = st.tensor([
          [0, 1, 1],
          [1, 0, 0],
        ]);
        // Row 0: 0.5 three times; indices 0 and 1 are the top 2, so the positive at index 2 is not predicted.
        const scores = st.tensor([
          [0.5, 0.5, 0.5],
          [0.9, 0.1, 0.2],
        ]);
        for (const m of [p, r]) m.update(labels, scores);
        // Predicted: (0,0) fp, (0,1) tp, (1,0) tp, (1,2) fp.
        assert.equal(await p.resultAsync(), 0.5);
        assertClose(await r.resultAsync(), 2 / 3);
        assert.deepEqual(p.getConfig(), { name: 'precision', topK: 2 });
        assert.deepEqual(metrics.recall({ topK: 1, classId: 0, thresholds: 0.4 }).getConfig(), {
          name: 'recall',
          thresholds: 0.4,
          classId: 0,
          topK: 1,
        });
        for (const topK of [0, 1.5, -1])
          assert.throws(
            () => metrics.precision({ topK }),
            (e: Error) => e instanceof st.ValueError && /topK/.test(e.message),
          );
      }),
    );

    it(
      'auc multiLabel: the mean (or labelWeights-weighted mean) of per-label Keras areas',
      run(async () => {
        const labelsCount = 3;
        const batches = [25, 40, 11].map((n) => ({ yTrue: bits([n, labelsCount]), yPred: uniform([n, labelsCount]), weight: uniform([n], 0, 2) }));
        for (const curve of ['ROC', 'PR'] as const) {
          const summationMethod = curve === 'ROC' ? 'interpolation' : 'minoring';
          for (const labelWeights of [undefined, [0.5, 2, 0]]) {
            for (const weighted of [false, true]) {
              const m = metrics.auc({ multiLabel: true, curve, summationMethod, ...(labelWeights ? { labelWeights } : {}) });
              const cols: { preds: number[]; labels: number[]; weights: number[] }[] = Array.from({ length: labelsCount }, () => ({
                preds: [],
                labels: [],
                weights: [],
              }));
              for (const b of batches) {
                m.update(b.yTrue, b.yPred, weighted ? b.weight : undefined);
                const t = await rows(b.yTrue),
                  w = await values(b.weight);
                (await rows(b.yPred)).forEach((row, i) =>
                  row.forEach((x, j) => {
                    cols[j].preds.push(x);
                    cols[j].labels.push(t[i][j]);
                    cols[j].weights.push(weighted ? w[i] : 1);
                  }),
                );
              }
              const areas = cols.map((c) => thresholdAuc(c.preds, c.labels, c.weights, curve));
              const expected = labelWeights ? sumOf(areas.map((a, j) => a * labelWeights[j])) / sumOf(labelWeights) : sumOf(areas) / labelsCount;
              // Weighted label mass is summed per batch in float32 on the backend (as Keras does), then in float64.
              assertClose(
                await m.resultAsync(),
                expected,
                weighted ? 1e-6 : 1e-10,
                1e-12,
                `${curve} labelWeights ${labelWeights} weighted ${weighted}`,
              );
              assert.equal(m.numLabels, labelsCount);
            }
          }
        }
      }),
    );

    it(
      'auc multiLabel is close to the exact rank AUC per label; labelWeights without multiLabel weight columns',
      run(async () => {
        const n = 400,
          L = 2;
        const yTrue = bits([n, L]);
        const t = await values(yTrue);
        const scores = st.sigmoid(
          st.tensor(
            randomValues(n * L, nextSeed(), -2, 2).map((v, i) => v + (j(i) === 0 ? 1.5 : 0.5) * t[i]),
            [n, L],
          ),
        );
        function j(i: number) {
          return i % L;
        }
        const m = metrics.auc({ multiLabel: true, numLabels: L });
        m.update(yTrue, scores);
        const p = await values(scores);
        const exact = [0, 1].map((l) =>
          rankAuc(
            p.filter((_, i) => j(i) === l),
            t.filter((_, i) => j(i) === l),
          ),
        );
        assert.ok(Math.abs((await m.resultAsync()) - (exact[0] + exact[1]) / 2) < 0.01, `multi-label AUC ${await m.resultAsync()} vs exact ${exact}`);
        // One shared curve: the weight of every prediction in column l is labelWeights[l].
        const lw = [2, 0.25];
        const single = metrics.auc({ labelWeights: lw, curve: 'PR', summationMethod: 'minoring' });
        single.update(yTrue, scores);
        assertClose(
          await single.resultAsync(),
          thresholdAuc(
            p,
            t,
            p.map((_, i) => lw[j(i)]),
            'PR',
          ),
          1e-10,
          1e-12,
          'labelWeights without multiLabel',
        );
      }),
    );

    it(
      'auc multiLabel: shape checks, config, reset',
      run(async () => {
        const m = metrics.auc({ multiLabel: true, numLabels: 2, labelWeights: [1, 3] });
        assert.throws(
          () => m.update(bits([4, 3]), uniform([4, 3])),
          (e: Error) => e instanceof st.ShapeError && /2 labels/.test(e.message),
        );
        assert.throws(() => m.update(bits([2, 2, 2]), uniform([2, 2, 2])), st.ShapeError);
        assert.deepEqual(m.getConfig(), {
          name: 'auc',
          curve: 'ROC',
          summationMethod: 'interpolation',
          fromLogits: false,
          multiLabel: true,
          numLabels: 2,
          labelWeights: [1, 3],
          numThresholds: 200,
        });
        assert.equal(await m.resultAsync(), 0);
        m.update(
          st.tensor([
            [1, 0],
            [0, 1],
          ]),
          st.tensor([
            [0.9, 0.2],
            [0.1, 0.8],
          ]),
        );
        assert.equal(await m.resultAsync(), 1);
        m.reset();
        assert.equal(await m.resultAsync(), 0);
        assert.throws(() => metrics.auc({ numLabels: 2 }), st.ValueError);
        assert.throws(() => metrics.auc({ multiLabel: true, numLabels: 2, labelWeights: [1] }), st.ValueError);
        assert.throws(() => metrics.auc({ labelWeights: [-1] }), st.ValueError);
        assert.throws(() => metrics.auc({ labelWeights: [1, 2] }).update(bits([3, 3]), uniform([3, 3])), st.ShapeError);
      }),
    );
  });
}
