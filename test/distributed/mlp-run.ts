// One training run of a small MLP, in one process or as a rank of an `mpirun -np N` job, for
// test/distributed.test.ts: prints the final weights and the history as one JSON line (rank 0).
//   node --import tsx test/distributed/mlp-run.ts single|dist [backend] [bucketBytes]
// Both runs see the same data and start from the same weights (rank 1 is seeded apart on
// purpose: the broadcast from rank 0 must fix it); the distributed run's per-rank batch is the
// single run's batch divided by the number of ranks. 70 samples in global batches of 16 leave a
// short last batch (6 samples: all on rank 0, none on rank 1), 5 steps per epoch, 4 epochs.
import * as st from '../../src/index.js';

const [mode, backend = 'native', bucketBytes] = process.argv.slice(2);
const dist = mode === 'dist';
await st.setBackend(backend);
if (dist) await st.distributed.init();
const ranks = dist ? st.distributed.size : 1;
st.setSeed(7);
const n = 70;
const x = st.randomNormal([n, 8]);
const y = st.tensor(
  Int32Array.from({ length: n }, (_, i) => (i * 7) % 3),
  [n],
  'int32',
);
const xv = st.randomNormal([21, 8]);
const yv = st.tensor(
  Int32Array.from({ length: 21 }, (_, i) => i % 3),
  [21],
  'int32',
);
if (dist && st.distributed.rank === 1) st.setSeed(99);
const model = st.sequential({
  layers: [st.layers.dense({ units: 16, activation: 'relu', inputShape: [8] }), st.layers.dense({ units: 3, activation: 'softmax' })],
});
model.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
const history = await model.fit(x, y, {
  epochs: 4,
  batchSize: 16 / ranks,
  verbose: 0,
  validationData: [xv, yv],
  ...(dist ? { distributed: bucketBytes ? { bucketBytes: Number(bucketBytes) } : true } : {}),
});
if (!dist || st.distributed.rank === 0) {
  const weights = await Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
  console.log(JSON.stringify({ weights, history: history.history, threads: st.getNumThreads() }));
}
