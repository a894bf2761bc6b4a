// The wasm backend's fused optimizer steps (wasm/src/optim.c) on a variable large enough to be
// split across threads, against the rules as ops on the reference backend, and one thread
// against two. (test/optimizer-kernels.test.ts runs every configuration on every backend.)
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { wasmThreadsReady } from './wasm-kernels-helpers.js';

const wasmAvailable = st.backends().some((b) => b.name === 'wasm' && b.available);

const configs: [string, () => st.Optimizer][] = [
  ['sgd nesterov + weight decay', () => st.optimizers.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['rmsprop centered + momentum', () => st.optimizers.rmsprop({ learningRate: 0.01, centered: true, momentum: 0.5 })],
  ['adam amsgrad', () => st.optimizers.adam({ learningRate: 0.01, amsgrad: true })],
  ['adagrad', () => st.optimizers.adagrad({ learningRate: 0.1 })],
  ['adadelta', () => st.optimizers.adadelta({ learningRate: 1 })],
  ['adamax + weight decay', () => st.optimizers.adamax({ learningRate: 0.05, weightDecay: 0.02 })],
];

const n = 70001;
function steps(make: () => st.Optimizer, backend: string): number[] {
  return withBackend(backend, () => {
    const opt = make();
    const w = st.variable(st.tensor(randomValues(n, 3), [n]));
    for (let step = 0; step < 3; step++) opt.applyGradients([{ variable: w, grad: st.tensor(randomValues(n, 30 + step, -2, 2), [n]) }]);
    return Array.from(w.dataSync());
  });
}

describe('wasm optimizer updates', { skip: !wasmAvailable && 'wasm backend not available' }, () => {
  before(wasmThreadsReady);
  for (const [name, make] of configs) {
    it(`${name}: ${n} values as the rules as ops; one thread and two alike`, () => {
      const previous = st.getNumThreads();
      try {
        st.setNumThreads(2);
        const two = steps(make, 'wasm');
        assertClose(two, steps(make, 'reference'), 1e-5, 1e-6, name);
        st.setNumThreads(1);
        assert.deepEqual(steps(make, 'wasm'), two);
      } finally {
        st.setNumThreads(previous);
      }
    });
  }
});
