// A child process for test/hostile/atomic-saves.test.ts: builds a small compiled model, trains it
// `steps` steps (so weights and optimizer state both differ from a model trained fewer steps),
// records what it is about to save in `expected`, then saves it to `dir` with a fault (fs-faults.mjs)
// waiting at the `at`-th file-system step of the save. Prints `completed before the fault` when
// the save finished without reaching it.
// Usage: node save-with-faults.mjs '{"dir", "expected", "mode", "at", "steps", "units"}'
import { rename, writeFile } from 'node:fs/promises';
import { installFaults } from './fs-faults.mjs';

const { dir, expected, mode, at, steps, units = 5 } = JSON.parse(process.argv[2]);
const faults = await installFaults({ mode, at });

const st = await import('../../../dist/index.js');
st.setBackend('reference');
st.setSeed(7);
const model = st.sequential({
  layers: [st.layers.dense({ units, inputShape: [3], activation: 'tanh', name: 'hidden' }), st.layers.dense({ units: 2, name: 'out' })],
});
model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.1 }), loss: 'meanSquaredError' });
const x = st.tensor([
  [0.1, -0.4, 0.7],
  [0.5, 0.2, -0.3],
  [-0.8, 0.9, 0.05],
  [0.3, 0.3, 0.3],
]);
const y = st.tensor([
  [1, 0],
  [0, 1],
  [0.5, 0.5],
  [-1, 2],
]);
for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
model.setUserDefinedMetadata({ steps });
// Written whole before the save starts (renamed into place), so a reader that finds the model finds this too.
await writeFile(
  `${expected}.tmp`,
  JSON.stringify({ weights: model.getWeights().map((w) => Array.from(w.dataSync())), iterations: model.optimizer.iterations }),
);
await rename(`${expected}.tmp`, expected);
faults.armed = true;
try {
  await model.save(dir);
  // A fault that fired but did not fail the save (ENOSPC where none can happen, e.g. a rename) says so.
  process.stdout.write(
    faults.step >= at ? `completed, the fault at step ${at} passed\n` : `completed before the fault, after ${faults.step} steps\n`,
  );
} catch (e) {
  process.stdout.write(`failed: ${e.code ?? ''} ${e.message}\n`);
  process.exitCode = 3;
}
