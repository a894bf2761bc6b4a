// Sequence-model rows of the benchmark (issue 6): an LSTM and a multi-head-attention training
// step through the public layers and trainer, the same shapes as torch_bench.py's `sequence`.
import * as st from '../dist/index.js';
import { timeIt } from './measure.js';

/** [batch, time, features] → LSTM(128) or GRU(128) → dense(10); [batch, time, dim] → MHA(8 heads of 16) → mean over time → dense(10). */
export const SEQUENCE = { lstm: { batch: 64, time: 50, features: 32, units: 128 }, mha: { batch: 32, time: 64, dim: 128, heads: 8 } } as const;

export async function runSequence(budget: number): Promise<Record<string, { stepMs: number; minMs: number }>> {
  const out: Record<string, { stepMs: number; minMs: number }> = {};
  const { lstm: l, mha: m } = SEQUENCE;
  st.setSeed(0);

  const lstm = st.sequential({ layers: [st.layers.lstm({ units: l.units, inputShape: [l.time, l.features] }), st.layers.dense({ units: 10 })] });
  const gru = st.sequential({ layers: [st.layers.gru({ units: l.units, inputShape: [l.time, l.features] }), st.layers.dense({ units: 10 })] });
  const mhaIn = st.input({ shape: [m.time, m.dim] });
  const attended = st.layers.multiHeadAttention({ numHeads: m.heads, keyDim: m.dim / m.heads }).apply(mhaIn);
  const mha = st.model({ inputs: mhaIn, outputs: st.layers.dense({ units: 10 }).apply(st.layers.globalAveragePooling1d().apply(attended)) });

  const cases: [string, st.Model, st.Tensor, st.Tensor][] = [
    ['lstm', lstm, st.randomNormal([l.batch, l.time, l.features]), st.randomUniform([l.batch], { min: 0, max: 10 }).floor().cast('int32')],
    ['gru', gru, st.randomNormal([l.batch, l.time, l.features]), st.randomUniform([l.batch], { min: 0, max: 10 }).floor().cast('int32')],
    ['mha', mha, st.randomNormal([m.batch, m.time, m.dim]), st.randomUniform([m.batch], { min: 0, max: 10 }).floor().cast('int32')],
  ];
  for (const [name, model, x, y] of cases) {
    model.compile({
      optimizer: st.optimizers.rmsprop({ learningRate: 1e-3 }),
      loss: (t, p) => st.losses.sparseCategoricalCrossentropy(t, p, { fromLogits: true }),
    });
    const t = await timeIt(() => model.trainOnBatch(x, y), { warmup: 10, budgetSeconds: budget * 1.5, minReps: 5, maxReps: 300 });
    out[name] = { stepMs: t.median, minMs: t.min };
  }
  return out;
}
