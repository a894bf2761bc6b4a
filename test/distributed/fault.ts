// A rank that fails mid-training, for test/distributed.test.ts:
//   node --import tsx test/distributed/fault.ts die|hang
// Both ranks train a small MLP for many steps; after 30 steps rank 1 either kills itself
// (SIGKILL: no error handler runs) or stops taking part while staying alive. Rank 0 must not
// wait forever: mpirun ends the job when a rank dies, and the watchdog (STRATA_DISTRIBUTED_TIMEOUT)
// turns a silent rank into a DistributedError.
import * as st from '../../src/index.js';

const how = process.argv[2];
await st.distributed.init();
const rank = st.distributed.rank;
st.setSeed(1);
const x = st.randomNormal([4096, 8]);
const y = st.tensor(
  Int32Array.from({ length: 4096 }, (_, i) => i % 3),
  [4096],
  'int32',
);
const model = st.sequential({
  layers: [st.layers.dense({ units: 16, activation: 'relu', inputShape: [8] }), st.layers.dense({ units: 3, activation: 'softmax' })],
});
model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
let steps = 0;
const failing: st.Callback = {
  onBatchEnd: async () => {
    if (rank !== 1 || ++steps < 30) return;
    console.log('rank 1: failing now');
    if (how === 'die') process.kill(process.pid, 'SIGKILL');
    setInterval(() => {}, 1000); // alive, but never again in a collective
    await new Promise(() => {});
  },
};
try {
  await model.fit(x, y, { epochs: 1000, batchSize: 8, verbose: 0, distributed: true, callbacks: [failing] });
} catch (e) {
  console.error(`rank ${rank}: ${(e as Error).name}: ${(e as Error).message}`);
  process.exit(1);
}
