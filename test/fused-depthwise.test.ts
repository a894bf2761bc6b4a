// st.fused.depthwiseConv2d (the fusedDepthwiseConv2d kernel where a backend has it) against the
// ops it stands for, on every backend, forward and backward; and its argument checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, assertCloseAsync, randomValues, throwsWith, withBackendAsync } from './helpers.js';

const tensor = (shape: number[], seed: number, scale = 1) =>
  st.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ).map((v) => v * scale),
    shape,
  );

/** The same computation as separate ops: the oracle. */
function composite(x: st.Tensor, f: st.Tensor, b: st.Tensor, activation: 'linear' | 'relu' | 'relu6', opts: st.Conv2dOptions): st.Tensor {
  const y = st.add(st.depthwiseConv2d(x, f, opts), b);
  if (activation === 'linear') return y;
  return activation === 'relu' ? st.relu(y) : st.minimum(st.relu(y), 6);
}

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and the
// per-backend checks read with `await t.data()`, which every backend has.
await st.ready();
for (const backend of st.backends()) {
  describe(`fused.depthwiseConv2d on the ${backend.name} backend`, { skip: backend.available ? false : `unavailable: ${backend.reason}` }, () => {
    for (const activation of ['linear', 'relu', 'relu6'] as const) {
      for (const [multiplier, opts] of [
        [1, {}],
        [2, { strides: 2, padding: 'same' as const }],
        [1, { dilation: 2, padding: 'same' as const }],
      ] as const) {
        it(`${activation}, depth multiplier ${multiplier}, ${JSON.stringify(opts)}: as depthwiseConv2d + bias + ${activation}, with gradients`, () =>
          withBackendAsync(backend.name, async () => {
            // Inputs in [-4, 4] for relu6, so that outputs fall on both sides of 6 as well as 0.
            const x = st.variable(tensor([2, 9, 7, 6], 1, activation === 'relu6' ? 4 : 1));
            const f = st.variable(tensor([3, 3, 6, multiplier], 2));
            const b = st.variable(tensor([6 * multiplier], 3));
            const run = async (fn: () => st.Tensor) => {
              [x, f, b].forEach((v) => v.zeroGrad());
              const y = fn();
              y.mul(tensor([...y.shape], 4))
                .sum()
                .backward();
              return Promise.all([y, x.grad!, f.grad!, b.grad!].map(async (t) => Array.from(await t.data())));
            };
            const fused = await run(() => st.fused.depthwiseConv2d({ x, filter: f, bias: b, activation, ...opts }));
            const plain = await run(() => composite(x, f, b, activation, opts));
            ['output', 'dx', 'dfilter', 'dbias'].forEach((what, i) => assertClose(fused[i], plain[i], 1e-5, 1e-5, what));
            if (activation === 'relu6')
              assert.ok(
                fused[0].some((v) => v === 6),
                'some outputs clipped at 6',
              );
          }));
      }
    }

    it('without a bias it is the depthwise convolution and the activation', () =>
      withBackendAsync(backend.name, async () => {
        const x = tensor([1, 5, 5, 3], 5, 4),
          f = tensor([3, 3, 3, 1], 6);
        const got = st.fused.depthwiseConv2d({ x, filter: f, activation: 'relu6', padding: 'same' });
        await assertCloseAsync(got, st.minimum(st.relu(st.depthwiseConv2d(x, f, { padding: 'same' })), 6), 1e-6, 1e-6);
      }));
  });
}

describe('fused.depthwiseConv2d', () => {
  it('runs as one kernel on the native backend', {
    skip: !st.backends().find((b) => b.name === 'native')?.available && 'native backend not built',
  }, async () => {
    await withBackendAsync('native', async () => {
      const x = tensor([2, 8, 8, 4], 7),
        filter = tensor([3, 3, 4, 1], 8),
        bias = tensor([4], 9);
      const { kernels } = await st.profile(() => st.fused.depthwiseConv2d({ x, filter, bias, activation: 'relu6' }));
      assert.deepEqual(kernels, { fusedDepthwiseConv2d: 1 });
    });
  });

  it('keeps a NaN or an infinity in its own channel on every backend (the reference composite too)', async () => {
    const wave = (n: number, a: number, b: number) => Array.from({ length: n }, (_, i) => ((i * a) % b) / b - 0.45);
    // x: a NaN in channel 1 and an infinity in channel 2; the second kernel: a NaN in channel 0.
    const x = wave(48, 7, 11).map((v, i) => (i === 16 ? Number.NaN : i === 29 ? Infinity : v));
    const kernel = wave(54, 5, 13);
    const badKernel = kernel.map((v, i) => (i === 6 ? Number.NaN : v));
    const cases = [
      { what: 'x', x, kernel, bad: [1, 2] },
      { what: 'kernel', x: wave(48, 7, 11), kernel: badKernel, bad: [0] },
    ];
    for (const backend of st.backends().filter((b) => b.available)) {
      for (const c of cases) {
        const got = await withBackendAsync(backend.name, async () =>
          Array.from(await st.depthwiseConv2d(st.tensor(c.x, [1, 4, 4, 3]), st.tensor(c.kernel, [3, 3, 3, 2]), { padding: 'same' }).data()),
        );
        // Output channel c*dm + m belongs to input channel c: only the bad ones may be non-finite.
        got.forEach((v, i) => {
          const channel = Math.floor((i % 6) / 2);
          if (!c.bad.includes(channel)) assert.ok(Number.isFinite(v), `${backend.name}, bad ${c.what}: output ${i} (channel ${channel}) is ${v}`);
        });
        assert.ok(
          got.some((v) => !Number.isFinite(v)),
          `${backend.name}, bad ${c.what}: the bad channel kept its NaN or infinity`,
        );
      }
    }
  });

  it('names what it expected and what it received', () => {
    const x = tensor([1, 4, 4, 3], 1),
      filter = tensor([3, 3, 3, 2], 2);
    throwsWith(() => st.fused.depthwiseConv2d({ x, filter, bias: st.zeros([3]) }), st.ShapeError, /bias must have shape \[6\].*received \[3\]/);
    throwsWith(
      () => st.fused.depthwiseConv2d({ x, filter, activation: 'gelu' as 'relu' }),
      st.ValueError,
      /activation/,
      /'linear', 'relu', 'relu6'|linear, relu, relu6/,
    );
    throwsWith(() => st.fused.depthwiseConv2d({ x, filter, stride: 2 } as never), st.ValueError, /stride/);
    throwsWith(
      () => st.fused.depthwiseConv2d({ x, filter: tensor([3, 3, 4, 1], 3) }),
      st.ShapeError,
      /kernel must be \[kh, kw, 3, depthMultiplier\]/,
    );
  });
});
