// Keras 3's metrics added for issue 23 against test/fixtures/keras-metrics.json, written by
// scripts/make_keras_metric_fixtures.py from Keras 3.16.0's definitions in NumPy. Every case feeds
// several batches (some weighted) and checks the accumulated result, on every backend in float32
// and on the reference backend in float64. The states are also checked to add up the way the
// distributed fit sums them, and the names compile() accepts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { type Metric, getMetric, metrics } from '../src/metrics/index.js';
import { type Blob, fixtureRuns, loadFixture } from './fixture-harness.js';
import { assertClose, throwsWith, withBackendAsync } from './helpers.js';

interface TypedBlob extends Blob {
  dtype: string;
}
interface Batch {
  yTrue?: TypedBlob;
  yPred?: TypedBlob;
  values?: TypedBlob;
  weight?: TypedBlob;
}
interface Case {
  name: string;
  metric: string;
  args: number[];
  options: Record<string, unknown>;
  batches: Batch[];
  result: number;
  results?: number[];
}

const { cases } = loadFixture<Case>('keras-metrics.json');
const runs = await fixtureRuns({ rtol: 1e-4, atol: 1e-5 });

type Factory = (...a: unknown[]) => Metric;
const make = (c: Case): Metric => (metrics as unknown as Record<string, Factory>)[c.metric](...c.args, c.options);
const withResults = (m: Metric) => m as Metric & { results?: () => number[]; updateValues?: (v: st.Tensor, w?: st.Tensor) => void };

function feed(m: Metric, batch: Batch, dtype: st.DType): void {
  const t = (b: Blob | undefined) => (b ? st.tensor(b.data, b.shape, dtype) : undefined);
  if (batch.values) withResults(m).updateValues!(t(batch.values)!, t(batch.weight));
  else m.update(t(batch.yTrue)!, t(batch.yPred)!, t(batch.weight));
}

for (const run of runs) {
  describe(`Keras metrics on ${run.backend} (${run.dtype})`, () => {
    // The fixtures' tolerance is relative to the metric's scale: counts and percentages are large.
    const atol = (expected: number) => run.atol * Math.max(1, Math.abs(expected));
    for (const c of cases) {
      it(c.name, () =>
        withBackendAsync(run.backend, async () => {
          const m = make(c);
          for (const b of c.batches) feed(m, b, run.dtype);
          await m.settle();
          assertClose(m.result(), c.result, run.rtol, atol(c.result), c.name);
          const results = withResults(m).results;
          if (c.results && results) assertClose(results.call(m), c.results, run.rtol, atol(Math.max(...c.results.map(Math.abs))), c.name);
          m.reset();
          await m.settle();
          assert.equal(m.result(), 0, 'after reset');
        }),
      );
    }
  });
}

describe('Keras metrics: state, names and errors', () => {
  it('states add up across workers as the distributed fit sums them', () =>
    withBackendAsync('reference', async () => {
      for (const c of cases) {
        if (c.batches.length < 2) continue;
        const whole = make(c),
          first = make(c),
          second = make(c),
          merged = make(c);
        c.batches.forEach((b, i) => {
          feed(whole, b, 'float64');
          feed(i % 2 ? second : first, b, 'float64');
        });
        const a = first.getState(),
          b = second.getState();
        assert.ok(a && b, `${c.name}: a summable state`);
        merged.setState(a.map((v, i) => v + b[i]));
        assertClose(merged.result(), whole.result(), 1e-12, 1e-12, c.name);
      }
    }));

  it('compile() names in Keras and tfjs spellings', () => {
    const names: [string, string][] = [
      ['mape', 'mape'],
      ['MAPE', 'MAPE'],
      ['mean_absolute_percentage_error', 'mean_absolute_percentage_error'],
      ['msle', 'msle'],
      ['logcosh', 'logcosh'],
      ['cosine_similarity', 'cosine_similarity'],
      ['cosineProximity', 'cosineProximity'],
      ['r2_score', 'r2_score'],
      ['f1_score', 'f1_score'],
      ['F1Score', 'F1Score'],
      ['fbeta_score', 'fbeta_score'],
      ['pearson_correlation', 'pearson_correlation'],
      ['concordance_correlation', 'concordance_correlation'],
      ['true_positives', 'true_positives'],
      ['TrueNegatives', 'TrueNegatives'],
      ['false_positives', 'false_positives'],
      ['falseNegatives', 'falseNegatives'],
      ['binary_iou', 'binary_iou'],
    ];
    for (const [id, logged] of names) assert.equal(getMetric(id).name, logged);
    assert.equal(metrics.f1Score().name, 'f1_score');
    assert.equal(metrics.precisionAtRecall(0.5).name, 'precision_at_recall');
    assert.equal(metrics.meanIoU({ numClasses: 3 }).name, 'mean_iou');
  });

  it('a model trains with the new metrics in its logs', async () => {
    await withBackendAsync('reference', async () => {
      const model = st.sequential({ layers: [st.layers.dense({ units: 3, inputShape: [4], activation: 'sigmoid' })] });
      model.compile({
        optimizer: 'sgd',
        loss: 'binaryCrossentropy',
        metrics: ['f1_score', 'r2_score', metrics.meanIoU({ numClasses: 3, sparseYTrue: false, sparseYPred: false })],
      });
      const x = st.randomUniform([12, 4], { seed: 3 }),
        y = st.tensor(
          Array.from({ length: 36 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
          [12, 3],
        );
      const history = await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
      for (const key of ['f1_score', 'r2_score', 'mean_iou']) assert.ok(Number.isFinite(history.history[key][0]), key);
    });
  });

  it('bad options and inputs are named', () => {
    throwsWith(() => metrics.fBetaScore({ average: 'mean' as never }), st.ValueError, /average/, /mean/);
    throwsWith(() => metrics.fBetaScore({ beta: 0 }), st.ValueError, /beta/);
    throwsWith(() => metrics.f1Score({ threshold: 1.5 }), st.ValueError, /threshold/);
    throwsWith(() => metrics.r2Score({ numRegressors: -1 }), st.ValueError, /numRegressors/);
    throwsWith(() => metrics.iou({ numClasses: 3, targetClassIds: [3] }), st.ValueError, /targetClassIds/);
    throwsWith(() => metrics.meanIoU({} as never), st.ValueError, /numClasses/);
    throwsWith(() => metrics.meanIoU({ numClasses: 3, targetClassIds: [0] } as never), st.ValueError, /targetClassIds/);
    throwsWith(() => metrics.oneHotIoU({ numClasses: 3, targetClassIds: [0], sparseYTrue: true } as never), st.ValueError, /sparseYTrue/);
    throwsWith(() => metrics.sensitivityAtSpecificity(1.5), st.ValueError, /specificity/);
    throwsWith(() => metrics.precisionAtRecall(0.5, { numThresholds: 0 }), st.ValueError, /numThresholds/);
    throwsWith(() => metrics.truePositives({ classId: 1 } as never), st.ValueError, /classId/);
    const f1 = metrics.f1Score();
    throwsWith(() => f1.update(st.tensor([1, 0]), st.tensor([0.3, 0.2])), st.ShapeError, /\[batch, classes\]/);
    f1.update(st.tensor([[1, 0]]), st.tensor([[0.3, 0.2]]));
    throwsWith(() => f1.update(st.tensor([[1, 0, 1]]), st.tensor([[0.3, 0.2, 0.1]])), st.ShapeError, /2 classes/);
    throwsWith(() => metrics.sum().update(st.tensor([1]), st.tensor([1])), st.ValueError, /updateValues/);
  });
});

describe('AUC state', () => {
  it('adds up across workers (the distributed fit sums it)', () =>
    withBackendAsync('reference', async () => {
      const y = st.tensor([1, 0, 1, 1, 0, 0, 1, 0], [8]),
        p = st.tensor([0.9, 0.3, 0.6, 0.2, 0.1, 0.7, 0.8, 0.4], [8]);
      const whole = metrics.auc(),
        a = metrics.auc(),
        b = metrics.auc(),
        merged = metrics.auc();
      whole.update(y, p);
      a.update(st.slice(y, 0, 3), st.slice(p, 0, 3));
      b.update(st.slice(y, 3, 5), st.slice(p, 3, 5));
      const sa = a.getState()!,
        sb = b.getState()!;
      merged.setState(sa.map((v, i) => v + sb[i]));
      assertClose(merged.result(), whole.result(), 1e-12, 1e-12);
      assert.equal(metrics.auc({ multiLabel: true }).getState(), undefined);
    }));
});
