// Sequence-model rows of the benchmark: LSTM, GRU and multi-head-attention training steps
// through the public layers and trainer, the same shapes as torch_bench.py's SEQUENCE_MODELS.
import * as st from '../dist/index.js';
import { timeIt } from './measure.js';

/** [batch, time, features] → LSTM(128) or GRU(128) → dense(10); [batch, time, dim] → MHA(8 heads of 16) → mean over time → dense(10). */
export const SEQUENCE = { lstm: { batch: 64, time: 50, features: 32, units: 128 }, mha: { batch: 32, time: 64, dim: 128, heads: 8 } } as const;

export const SEQUENCE_MODELS = ['lstm', 'gru', 'mha'] as const;
export type SequenceModel = (typeof SEQUENCE_MODELS)[number];

/** The model and one fixed batch of a sequence row, built fresh (as torch_bench.py measure_sequence_step). */
function sequenceCase(name: SequenceModel): [st.Model, st.Tensor, st.Tensor] {
  const { lstm: l, mha: m } = SEQUENCE;
  const labels = (n: number) => st.randomUniform([n], { min: 0, max: 10 }).floor().cast('int32');
  if (name === 'mha') {
    const mhaIn = st.input({ shape: [m.time, m.dim] });
    const attended = st.layers.multiHeadAttention({ numHeads: m.heads, keyDim: m.dim / m.heads }).apply(mhaIn);
    const outputs = st.layers.dense({ units: 10 }).apply(st.layers.globalAveragePooling1d().apply(attended));
    return [st.model({ inputs: mhaIn, outputs }), st.randomNormal([m.batch, m.time, m.dim]), labels(m.batch)];
  }
  const recurrent = (name === 'lstm' ? st.layers.lstm : st.layers.gru)({ units: l.units, inputShape: [l.time, l.features] });
  const model = st.sequential({ layers: [recurrent, st.layers.dense({ units: 10 })] });
  return [model, st.randomNormal([l.batch, l.time, l.features]), labels(l.batch)];
}

/** Median training step (forward, cross-entropy, backward, RMSprop) of one sequence model. */
export async function measureSequenceStep(name: SequenceModel, budget: number): Promise<{ stepMs: number; minMs: number }> {
  st.setSeed(0);
  const [model, x, y] = sequenceCase(name);
  model.compile({
    optimizer: st.optimizers.rmsprop({ learningRate: 1e-3 }),
    loss: (t, p) => st.losses.sparseCategoricalCrossentropy(t, p, { fromLogits: true }),
  });
  const t = await timeIt(() => model.trainOnBatch(x, y), { warmup: 10, budgetSeconds: budget * 1.5, minReps: 5, maxReps: 300 });
  return { stepMs: t.median, minMs: t.min };
}
