// Note [Bounds carried through linear layers] (native/src/abs_bound.h): a linear convolution and
// an Add or Sub pass a bound on |value| on to their output when their inputs' bounds are known,
// so that a fused ReLU6 convolution reading an x bigger than its output (where no pass over x is
// made to find one) can still prove its output finite and run the activation inside oneDNN. Each
// check counts the convolutions that took the post-op (the addon's fusedActivations), compares
// the values with the reference backend, and makes sure a NaN or an infinity is never proven away.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import type { NativeBackend } from '../src/backend/native/index.js';
import { assertClose, randomTensor, withBackend } from './helpers.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);
const skip = !nativeAvailable && 'native backend not built';

function fusedCount(): number {
  const backend = withBackend('native', () => st.getBackend()) as NativeBackend;
  return backend.addon.memory().fusedActivations;
}

const t = (shape: number[], seed: number, lo = -1, hi = 1) => randomTensor(shape, seed, 'float32', lo, hi);

/**
 * x [2, 12, 12, 4] → relu6 conv (bound 6) → `middle` → relu6 3x3 conv with stride 2 reading a
 * 24-channel x four times bigger than its output. `middle` is a linear 1x1 conv to 24 channels,
 * or the sum (or difference) of two of them. `poison` puts a NaN or an infinity into the
 * second linear conv's filter. Returns the output and how many convolutions ran their
 * activation inside oneDNN.
 */
function chain(backend: string, middle: 'conv' | 'add' | 'sub', poison?: number, huge = false, lastSeparate = false) {
  return withBackend(backend, () => {
    const before = backend === 'native' ? fusedCount() : 0;
    const x = t([2, 12, 12, 4], 1, -3, 3);
    const h = st.fused.conv2d({ x, filter: t([3, 3, 4, 8], 2), bias: t([8], 3), activation: 'relu6', padding: 'same' });
    const w1 = t([1, 1, 8, 24], 4);
    const w2values = Array.from(t([1, 1, 8, 24], 5).dataSync());
    if (poison !== undefined) w2values[7] = poison;
    const w2 = st.tensor(w2values, [1, 1, 8, 24]);
    // `huge`: biases near 1e37 and a last filter near 1e3, whose sums overflow float32.
    const bias = (seed: number) => (huge ? st.mul(t([24], seed, 0.5, 1), 3e37) : t([24], seed));
    const linear = (w: st.Tensor, seed: number) => st.fused.conv2d({ x: h, filter: w, bias: bias(seed), activation: 'linear' });
    let m = linear(w1, 6);
    if (middle !== 'conv') m = middle === 'add' ? st.add(m, linear(w2, 7)) : st.sub(m, linear(w2, 7));
    const last = huge ? st.mul(t([3, 3, 24, 6], 8), 1e3) : t([3, 3, 24, 6], 8);
    const lastArgs = { x: m, filter: last, bias: t([6], 9), strides: 2, padding: 'same' } as const;
    const y = lastSeparate ? st.relu6(st.fused.conv2d({ ...lastArgs, activation: 'linear' })) : st.fused.conv2d({ ...lastArgs, activation: 'relu6' });
    return { y: Array.from(y.dataSync()), fusedRuns: backend === 'native' ? fusedCount() - before : 0 };
  });
}

describe('bounds carried through linear layers', { skip }, () => {
  for (const middle of ['conv', 'add', 'sub'] as const) {
    it(`a relu6 convolution after a linear ${middle === 'conv' ? 'convolution' : `convolution ${middle}`} runs its activation inside, with the reference's values`, () => {
      const got = chain('native', middle);
      // The first relu6 convolution and the last one: the last reads x 4 times its output,
      // so only a carried bound lets it prove its output finite.
      assert.equal(got.fusedRuns, 2);
      assertClose(got.y, chain('reference', middle).y, 1e-4);
    });
  }

  it('sums that may overflow are not proven finite (the carried bounds are not too small)', () => {
    const got = chain('native', 'add', undefined, true);
    // The last convolution's sums overflow float32 (oneDNN's FMAs give +-Infinity there), so
    // its post-op must not be taken: a bound carried too small would let it be.
    assert.equal(got.fusedRuns, 1, 'only the first convolution may take the post-op');
    const want = chain('native', 'add', undefined, true, true).y;
    const differs = want.findIndex((v, i) => !Object.is(v, got.y[i]));
    assert.equal(differs, -1, `element ${differs}: separately ${want[differs]}, fused ${got.y[differs]}`);
  });

  for (const poison of [Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`a ${poison} in a linear convolution's filter is not proven away (the Add carries no finite bound)`, () => {
      const got = chain('native', 'add', poison);
      assert.equal(got.fusedRuns, 1, 'only the first convolution may take the post-op');
      const want = chain('reference', 'add', poison).y;
      assert.ok(
        want.some((v) => Number.isNaN(v)),
        'the poisoned chain gives NaN somewhere',
      );
      const differs = want.findIndex((v, i) => Number.isNaN(v) !== Number.isNaN(got.y[i]));
      assert.equal(differs, -1, `element ${differs}: reference ${want[differs]}, native ${got.y[differs]}`);
    });
  }
});
