// Streaming metrics on float64 inputs (reference backend only: it is the backend that keeps
// float64), checked against the float64 references of test/metric-test-helpers.ts with tight
// tolerances. The per-backend float32 cases are in test/metrics.test.ts.
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { AUC, metrics } from '../src/metrics/index.js';
import { assertClose, withBackendAsync } from './helpers.js';
import { BATCH_SIZES, errors, fetchValues, referenceAuc, uniform, values } from './metric-test-helpers.js';

describe('metrics in float64 (reference backend)', () => {
  it('streaming mse and AUC on float64 inputs match the float64 reference tightly', () =>
    withBackendAsync('reference', async () => {
      const batches = BATCH_SIZES.map((n) => ({ yTrue: uniform([n, 2], 0, 1, 'float64'), yPred: uniform([n, 2], 0, 1, 'float64') }));
      for (const b of batches) await fetchValues(b.yTrue, b.yPred);
      const m = metrics.meanSquaredError();
      let total = 0,
        count = 0;
      for (const b of batches) {
        m.update(b.yTrue, b.yPred);
        errors((d) => d * d)(b).forEach((v) => {
          total += v;
          count++;
        });
      }
      assertClose(m.result(), total / count, 1e-12, 1e-14);
      const a = new AUC();
      const preds: number[] = [],
        labels: number[] = [];
      for (const b of batches) {
        const y = st.tensor(
          values(b.yTrue).map((v) => (v > 0.5 ? 1 : 0)),
          b.yTrue.shape,
          'float64',
        );
        a.update(y, b.yPred);
        await fetchValues(y);
        preds.push(...values(b.yPred));
        labels.push(...values(y));
      }
      assertClose(
        a.result(),
        referenceAuc(
          preds,
          labels,
          preds.map(() => 1),
        ),
        1e-12,
        1e-14,
      );
    }));
});
