// A child process for test/hostile/atomic-saves.test.ts: builds a small compiled model, trains it
// `steps` steps (so weights and optimizer state both differ from a model trained fewer steps),
// writes what it is about to save to `expected`, then saves it to `dir` while a fault waits at
// the `at`-th file-system step of the save:
//   mode 'kill'   : the process SIGKILLs itself there (a write is cut in the middle first),
//                   as a crash, an OOM kill or a power cut would stop it;
//   mode 'enospc' : the step fails with ENOSPC, as on a full disk.
// Prints `completed before the fault` when the save finished without reaching the fault.
// Usage: node save-with-faults.mjs '{"dir", "expected", "mode", "at", "steps", "units"}'
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const { dir, expected, mode, at, steps, units = 5 } = JSON.parse(process.argv[2]);
let step = 0;
let armed = false;

/** Runs before each counted step; returns true when this step is the faulty one. */
function reached(kind) {
  if (!armed) return false;
  step++;
  if (step !== at) return false;
  process.stderr.write(`fault at step ${step}: ${kind}\n`);
  return true;
}

function die() {
  process.kill(process.pid, 'SIGKILL');
}

function enospc(syscall) {
  return Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), { code: 'ENOSPC', errno: -28, syscall });
}

const p = fs.promises;
const wrap = (name, faulty) => {
  const original = p[name];
  p[name] = async function (...args) {
    if (reached(name)) {
      if (mode === 'kill') die();
      if (faulty(args)) throw enospc(name);
    }
    return original.apply(this, args);
  };
};
// open for writing can fail on a full disk (a new directory entry); rename, unlink cannot.
wrap('open', (args) => typeof args[1] === 'string' && /[wa]/.test(args[1]));
wrap('rename', () => false);
wrap('unlink', () => false);
wrap('rm', () => false);
wrap('mkdir', () => true);
syncBuiltinESMExports();

// FileHandle methods: a write is where a full disk shows, and where a kill leaves a partial file.
const probe = await p.open(process.argv[1], 'r');
const FileHandle = Object.getPrototypeOf(probe);
await probe.close();
const writeFile = FileHandle.writeFile, sync = FileHandle.sync;
FileHandle.writeFile = async function (data, ...rest) {
  if (reached('write')) {
    if (mode === 'kill') {
      await writeFile.call(this, data.subarray(0, data.length >> 1), ...rest);
      die();
    }
    throw enospc('write');
  }
  return writeFile.call(this, data, ...rest);
};
FileHandle.sync = async function () {
  if (reached('fsync')) {
    if (mode === 'kill') die();
    throw enospc('fsync');
  }
  return sync.call(this);
};

const st = await import('../../../dist/index.js');
st.setBackend('reference');
st.setSeed(7);
const model = st.sequential({ layers: [st.layers.dense({ units, inputShape: [3], activation: 'tanh', name: 'hidden' }), st.layers.dense({ units: 2, name: 'out' })] });
model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.1 }), loss: 'meanSquaredError' });
const x = st.tensor([[0.1, -0.4, 0.7], [0.5, 0.2, -0.3], [-0.8, 0.9, 0.05], [0.3, 0.3, 0.3]]);
const y = st.tensor([[1, 0], [0, 1], [0.5, 0.5], [-1, 2]]);
for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
model.setUserDefinedMetadata({ steps });
// Written whole before the save starts (renamed into place), so a reader that finds the model finds this too.
await p.writeFile(`${expected}.tmp`, JSON.stringify({ weights: model.getWeights().map((w) => Array.from(w.dataSync())), iterations: model.optimizer.iterations }));
await p.rename(`${expected}.tmp`, expected);
armed = true;
try {
  await model.save(dir);
  // A fault that fired but did not fail the save (ENOSPC where none can happen, e.g. a rename) says so.
  process.stdout.write(step >= at ? `completed, the fault at step ${at} passed\n` : `completed before the fault, after ${step} steps\n`);
} catch (e) {
  process.stdout.write(`failed: ${e.code ?? ''} ${e.message}\n`);
  process.exitCode = 3;
}
