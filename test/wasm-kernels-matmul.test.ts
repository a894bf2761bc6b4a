// The wasm backend's packed SGEMM (Note [WASM SGEMM] in wasm/src/gemm.c) against the reference
// backend in float64: matmul with every transpose, shapes off the 6x8 tile and the 72/256/512
// blocks, 1s, batches and broadcast batches; fusedMatMul's bias and ReLU with gradients; int32
// wrapping; and the same bits with one thread and with two.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { wasmThreadsReady, assertSameOnOneAndTwoThreads } from './wasm-kernels-helpers.js';

const wasmAvailable = st.backends().some((b) => b.name === 'wasm' && b.available);
const size = (s: number[]) => s.reduce((p, q) => p * q, 1);

function matmulOn(backend: string, dtype: st.DType, aShape: number[], bShape: number[], ta: boolean, tb: boolean, seed: number): number[] {
  return withBackend(backend, () => {
    const a = st.tensor(randomValues(size(aShape), seed), aShape, dtype);
    const b = st.tensor(randomValues(size(bShape), seed + 1), bShape, dtype);
    return Array.from(st.matmul(a, b, ta, tb).dataSync());
  });
}

/** [M, K] x [K, N] operand shapes with the leading batch shapes given, transposed as asked. */
function shapes(m: number, k: number, n: number, ta: boolean, tb: boolean, batchA: number[] = [], batchB: number[] = []): [number[], number[]] {
  return [
    [...batchA, ...(ta ? [k, m] : [m, k])],
    [...batchB, ...(tb ? [n, k] : [k, n])],
  ];
}

describe('wasm matmul kernels', { skip: !wasmAvailable && 'wasm backend not available' }, () => {
  before(wasmThreadsReady);
  const mkn = [
    [1, 1, 1],
    [1, 7, 1],
    [2, 3, 5],
    [6, 4, 8],
    [7, 9, 13],
    [13, 300, 17],
    [64, 512, 10],
    [73, 257, 70],
    [100, 513, 33],
    [5, 0, 4],
  ];
  let seed = 100;
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    it(`float32 matmul, transposeA ${ta}, transposeB ${tb}, shapes off the tile and block sizes`, () => {
      for (const [m, k, n] of mkn) {
        const [as, bs] = shapes(m, k, n, ta, tb);
        const s = (seed += 7);
        const got = matmulOn('wasm', 'float32', as, bs, ta, tb, s);
        const want = matmulOn('reference', 'float64', as, bs, ta, tb, s);
        assertClose(got, want, 1e-4, 1e-5 * Math.sqrt(k + 1), `${m}x${k}x${n}`);
      }
    });
  }

  it('batches, and batch shapes that broadcast', () => {
    for (const [batchA, batchB] of [
      [[3], [3]],
      [
        [2, 1],
        [1, 4],
      ],
      [[1], [5]],
      [[], [2]],
    ]) {
      for (const [ta, tb] of [
        [false, false],
        [true, true],
      ]) {
        const [as, bs] = shapes(9, 20, 11, ta, tb, batchA, batchB);
        const s = (seed += 7);
        assertClose(matmulOn('wasm', 'float32', as, bs, ta, tb, s), matmulOn('reference', 'float64', as, bs, ta, tb, s), 1e-4, 1e-5, `${as} x ${bs}`);
      }
    }
  });

  it('int32 matmul wraps like the reference backend', () => {
    const get = (backend: string, ta: boolean, tb: boolean) =>
      withBackend(backend, () => {
        const a = st.tensor(
          randomValues(35, 3).map((v) => Math.round(v * 70000)),
          ta ? [7, 5] : [5, 7],
          'int32',
        );
        const b = st.tensor(
          randomValues(21, 4).map((v) => Math.round(v * 70000)),
          tb ? [3, 7] : [7, 3],
          'int32',
        );
        return Array.from(st.matmul(a, b, ta, tb).dataSync());
      });
    for (const [ta, tb] of [
      [false, false],
      [true, true],
    ])
      assert.deepEqual(get('wasm', ta, tb), get('reference', ta, tb));
  });

  for (const activation of ['linear', 'relu'] as const) {
    it(`fusedMatMul ${activation}: values and the gradients of a, b and the bias`, () => {
      for (const [m, k, n, ta, tb, batch] of [
        [5, 7, 3, false, false, 0],
        [13, 33, 17, true, false, 0],
        [64, 300, 33, false, true, 0],
        [4, 6, 9, true, true, 2],
      ] as const) {
        const [as, bs] = shapes(m, k, n, ta, tb, batch ? [batch] : [], batch ? [batch] : []);
        const s = (seed += 7);
        const run = (backend: string, dtype: st.DType) =>
          withBackend(backend, () => {
            const a = st.variable(st.tensor(randomValues(size(as), s), as, dtype));
            const b = st.variable(st.tensor(randomValues(size(bs), s + 1), bs, dtype));
            const bias = st.variable(st.tensor(randomValues(n, s + 2, -1, 0.5), [n], dtype));
            const y = st.fused.matMul({ a, b, bias, transposeA: ta, transposeB: tb, activation });
            st.sum(st.mul(y, st.tensor(randomValues(y.size, s + 3, 0.5, 1.5), y.shape, dtype))).backward();
            return [y, a.grad!, b.grad!, bias.grad!].map((t) => Array.from(t.dataSync()));
          });
        const got = run('wasm', 'float32'),
          want = run('reference', 'float64');
        got.forEach((v, i) => assertClose(v, want[i], 1e-4, 1e-4, `${as} x ${bs} result ${i}`));
      }
    });
  }

  it('one thread and two give the same bits', () => {
    const run = () => [
      matmulOn('wasm', 'float32', [200, 300], [300, 150], false, false, 5),
      matmulOn('wasm', 'float32', [300, 64], [150, 300], true, true, 6),
      matmulOn('wasm', 'float32', [3, 40, 90], [3, 90, 70], false, false, 7),
      // Batches split between threads by whole matrices.
      matmulOn('wasm', 'float32', [4, 100, 200], [4, 100, 200], false, true, 8),
    ];
    assertSameOnOneAndTwoThreads(run);
  });
});
