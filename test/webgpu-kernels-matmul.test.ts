// The webgpu backend's tiled matmul and fusedMatMul (Note [Tiled GEMM on the GPU]) against the
// reference backend, whose matmul is a plain loop and which has no fusedMatMul (so the fused
// kernel meets the composite matmul + add + relu): shapes off the tile sizes, both transposes,
// batches, int32, and gradients, which run the kernel again with other transposes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { randomTensor } from './helpers.js';
import { assertSameOnWebGpu, webgpuSkip } from './webgpu-helpers.js';

const r = (shape: number[], seed: number, lo = -1, hi = 1) => randomTensor(shape, seed, 'float32', lo, hi);

/** Whether the webgpu backend has a kernel for `primitive` (some are still being written). */
async function webgpuHas(primitive: string): Promise<boolean> {
  const previous = st.getBackend().name;
  await st.setBackend('webgpu');
  try {
    return (st.getBackend().kernels as Record<string, unknown>)[primitive] !== undefined;
  } finally {
    await st.setBackend(previous);
  }
}

/** a's shape for an [.., M, K] operand, transposed or not. */
const lhs = (batch: number[], m: number, k: number, t: boolean) => [...batch, ...(t ? [k, m] : [m, k])];
const rhs = (batch: number[], k: number, n: number, t: boolean) => [...batch, ...(t ? [n, k] : [k, n])];

/** A scalar that depends on every element of y with a different weight, from matmul and reshape only. */
const weigh = (y: st.Tensor, seed: number) => st.matmul(st.reshape(y, [1, y.size]), r([y.size, 1], seed));

describe('webgpu matmul kernels', { skip: webgpuSkip }, () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 13, 5],
    [33, 65, 17],
    [1, 40, 70],
    [64, 16, 64],
    [70, 3, 1],
    [3, 20, 9],
    [37, 20, 3],
    [100, 20, 12],
    [9, 20, 130],
  ];
  for (const [m, k, n] of shapes) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        it(`${m}x${k}x${n} transposeA=${ta} transposeB=${tb}`, async () => {
          await assertSameOnWebGpu(() => st.matmul(r(lhs([], m, k, ta), 1), r(rhs([], k, n, tb), 2), ta, tb), 1e-4, 1e-5, `${m}x${k}x${n}`);
        });
      }
    }
  }
  it('batches, transposed or not', async () => {
    await assertSameOnWebGpu(
      () => [st.matmul(r([3, 9, 20], 3), r([3, 20, 11], 4)), st.matmul(r([2, 2, 20, 9], 5), r([2, 2, 11, 20], 6), true, true)],
      1e-4,
      1e-5,
      'batched',
    );
  });
  it('a batch of 1 broadcast against 3 (ops/ broadcasts it first)', async (t) => {
    if (!(await webgpuHas('broadcastTo'))) return t.skip('the webgpu backend has no broadcastTo yet');
    await assertSameOnWebGpu(() => st.matmul(r([1, 5, 6], 7), r([3, 6, 4], 8)), 1e-4, 1e-5, 'broadcast batch');
  });
  it('vectors', async () => {
    await assertSameOnWebGpu(() => [st.matmul(r([17], 9), r([17, 5], 10)), st.matmul(r([4, 17], 11), r([17], 12))], 1e-4, 1e-5, 'vectors');
  });
  it('int32 wraps like the reference', async () => {
    await assertSameOnWebGpu(
      () => {
        const a = st.tensor([1, -2, 3, 4, 5, 6, 2147483647, 2, 0, -1, 7, 3], [3, 4], 'int32');
        const b = st.tensor([3, 1, -4, 1, 5, 9, 2, 6], [4, 2], 'int32');
        return st.matmul(a, b);
      },
      0,
      0,
      'int32',
    );
  });
  it('an empty product, and K = 0', async () => {
    await assertSameOnWebGpu(() => [st.matmul(r([0, 4], 13), r([4, 3], 14)), st.matmul(st.zeros([3, 0]), st.zeros([0, 2]))], 0, 0, 'empty');
  });
  it('a deep product (K = 1000) stays within float32 rounding', async () => {
    await assertSameOnWebGpu(() => st.matmul(r([5, 1000], 15), r([1000, 6], 16)), 1e-4, 1e-4, 'deep');
  });
  for (const activation of ['linear', 'relu'] as const) {
    it(`fused.matMul with bias, ${activation}, 2-D and batched, transposed`, async () => {
      await assertSameOnWebGpu(
        () => [
          st.fused.matMul({ a: r([7, 13], 17), b: r([13, 5], 18), bias: r([5], 19), activation }),
          st.fused.matMul({ a: r([33, 20], 20), b: r([65, 33], 21), bias: r([65], 22), activation, transposeA: true, transposeB: true }),
          st.fused.matMul({ a: r([2, 9, 8], 23), b: r([2, 8, 19], 24), bias: r([19], 25), activation }),
        ],
        1e-4,
        1e-5,
        `fused ${activation}`,
      );
    });
  }
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`gradients of matmul and fused relu, transposeA=${ta} transposeB=${tb}`, async () => {
      await assertSameOnWebGpu(
        () => {
          const f = (a: st.Tensor, b: st.Tensor) => weigh(st.matmul(a, b, ta, tb), 26);
          const g = (a: st.Tensor, b: st.Tensor) =>
            weigh(st.fused.matMul({ a, b, bias: r([9], 27), activation: 'relu', transposeA: ta, transposeB: tb }), 28);
          const a = r(lhs([], 10, 14, ta), 29),
            b = r(rhs([], 14, 9, tb), 30);
          const batched = st.valueAndGrad((x: st.Tensor, y: st.Tensor) => weigh(st.matmul(x, y, ta, tb), 31))(
            r(lhs([2], 6, 5, ta), 32),
            r(rhs([2], 5, 7, tb), 33),
          );
          return [...st.valueAndGrad(f)(a, b).grads, ...st.valueAndGrad(g)(a, b).grads, ...batched.grads];
        },
        1e-4,
        1e-5,
        'grads',
      );
    });
  }
  it('one dispatch per product', async () => {
    await st.setBackend('webgpu');
    try {
      const backend = st.getBackend() as unknown as { counters(): { dispatches: number } };
      const a = r([40, 30], 34),
        b = r([30, 20], 35);
      await a.data();
      await b.data();
      const before = backend.counters().dispatches;
      const y = st.matmul(a, b, false, false);
      await y.data();
      assert.equal(backend.counters().dispatches - before, 1);
    } finally {
      await st.setBackend('reference');
    }
  });
});
