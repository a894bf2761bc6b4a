// The webgpu backend's movement kernels (kernels-movement.ts) and reductions (kernels-reduce.ts)
// against the reference backend on random inputs: several ranks, negative axes, every dtype an op
// takes, empty tensors, and the gradients that run these kernels backwards.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { randomValues } from './helpers.js';
import { assertSameOnWebGpu, valuesOn, webgpuSkip } from './webgpu-helpers.js';

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** Random values of `dtype`: floats in [lo, hi), integers in [lo, hi), bools about half true. */
const r = (shape: number[], seed: number, dtype: st.DType = 'float32', lo = -2, hi = 2) => {
  const v = randomValues(count(shape), seed, lo, hi);
  if (dtype === 'float32') return st.tensor(v, shape);
  if (dtype === 'int32') return st.tensor(v.map(Math.floor), shape, 'int32');
  return st.tensor(
    v.map((x) => x > (lo + hi) / 2),
    shape,
    'bool',
  );
};
const DTYPES: st.DType[] = ['float32', 'int32', 'bool'];
const same = (f: () => st.Tensor | st.Tensor[], what: string, tol = 1e-6) => assertSameOnWebGpu(f, tol, tol, what);
/** Gradients of `f` with respect to `xs` (the created tensors), as assertSameOnWebGpu outputs. */
const grads = (f: (...xs: st.Tensor[]) => st.Tensor, make: () => st.Tensor[]) => () => st.valueAndGrad(f)(...make()).grads;

describe('webgpu movement kernels', { skip: webgpuSkip }, () => {
  it('transpose: ranks 1 to 5, every dtype', async () => {
    const cases: [number[], number[]][] = [
      [[7], [0]],
      [
        [3, 5],
        [1, 0],
      ],
      [
        [2, 3, 4],
        [2, 0, 1],
      ],
      [
        [2, 3, 4],
        [0, 2, 1],
      ],
      [
        [2, 3, 4, 5],
        [3, 1, 0, 2],
      ],
      [
        [2, 3, 1, 4, 5],
        [4, 2, 0, 3, 1],
      ],
      [
        [2, 3, 4, 5],
        [0, 1, 2, 3],
      ],
    ];
    for (const dtype of DTYPES)
      for (const [shape, perm] of cases) await same(() => st.transpose(r(shape, 1, dtype), perm), `transpose ${shape} ${perm} ${dtype}`);
  });
  it('broadcastTo: leading, inner and scalar broadcasts', async () => {
    const cases: [number[], number[]][] = [
      [[], [3, 4]],
      [[4], [3, 4]],
      [
        [3, 1],
        [3, 5],
      ],
      [
        [1, 3, 1],
        [2, 3, 4],
      ],
      [
        [2, 1, 4],
        [5, 2, 3, 4],
      ],
    ];
    for (const dtype of DTYPES)
      for (const [from, to] of cases) await same(() => st.broadcastTo(r(from, 2, dtype), to), `broadcastTo ${from} -> ${to} ${dtype}`);
  });
  it('slice: ranks 1 to 4, inner and outer windows, empty', async () => {
    for (const dtype of DTYPES) {
      await same(() => st.slice(r([10], 3, dtype), [2], [5]), `slice 1-d ${dtype}`);
      await same(() => st.slice(r([4, 6], 3, dtype), [1, 2], [2, -1]), `slice 2-d ${dtype}`);
      await same(() => st.slice(r([3, 4, 5], 3, dtype), [0, 1, 0], [-1, 2, 5]), `slice whole rows ${dtype}`);
      await same(() => st.slice(r([2, 3, 4, 5], 3, dtype), [1, 0, 2, 1], [1, 3, 2, 3]), `slice 4-d ${dtype}`);
      await same(() => st.slice(r([3, 4], 3, dtype), [1, 2], [0, 2]), `slice empty ${dtype}`);
    }
  });
  it('pad: every axis, a constant, empty inputs', async () => {
    for (const dtype of DTYPES) {
      await same(() => st.pad(r([5], 4, dtype), [[2, 3]]), `pad 1-d ${dtype}`);
      await same(
        () =>
          st.pad(r([3, 4], 4, dtype), [
            [1, 0],
            [2, 2],
          ]),
        `pad 2-d ${dtype}`,
      );
      await same(
        () =>
          st.pad(
            r([2, 3, 4], 4, dtype),
            [
              [0, 0],
              [1, 1],
              [0, 2],
            ],
            dtype === 'float32' ? 1.5 : 1,
          ),
        `pad 3-d with a value ${dtype}`,
      );
    }
    await same(
      () =>
        st.pad(st.zeros([0, 3]), [
          [1, 1],
          [0, 1],
        ]),
      'pad an empty tensor',
    );
  });
  it('concat: two to twenty inputs, negative axes, empty parts', async () => {
    for (const dtype of DTYPES) {
      await same(() => st.concat([r([2, 3], 5, dtype), r([2, 4], 6, dtype)], -1), `concat last ${dtype}`);
      await same(() => st.concat([r([1, 3, 2], 5, dtype), r([3, 3, 2], 6, dtype), r([2, 3, 2], 7, dtype)], 0), `concat first ${dtype}`);
      await same(() => st.concat([r([2, 1, 4], 5, dtype), r([2, 0, 4], 6, dtype), r([2, 3, 4], 7, dtype)], -2), `concat middle ${dtype}`);
    }
    // More inputs than a kernel may bind: several dispatches into one output.
    await same(
      () =>
        st.concat(
          Array.from({ length: 20 }, (_, k) => r([3, 1 + (k % 3), 2], 10 + k)),
          1,
        ),
      'concat of 20',
    );
  });
  it('gather: axes, index ranks, repeated and negative indices', async () => {
    for (const dtype of DTYPES) {
      await same(() => st.gather(r([5, 3], 8, dtype), [4, 0, 0, 2], 0), `gather rows ${dtype}`);
      await same(() => st.gather(r([2, 5, 3], 8, dtype), st.tensor([1, 4, -1, 0, 2, 2], [2, 3], 'int32'), 1), `gather 2-d indices ${dtype}`);
      await same(() => st.gather(r([2, 3, 6], 8, dtype), [5, 1], -1), `gather last axis ${dtype}`);
    }
    await same(() => st.gather(r([4, 3], 9), st.zeros([0], 'int32'), 0), 'gather of no indices');
  });
  it('gather and scatterAdd with indices computed on the GPU, negatives among them', async () => {
    // argMax - 2 lies in [-2, 3): ops/ resolves the negatives on the device, not by a read.
    const idx = () => st.sub(st.argMax(r([6, 5], 44), 1), 2);
    await same(() => st.gather(r([5, 3], 45), idx(), 0), 'gather of computed indices');
    await same(() => st.scatterAdd(r([6, 20], 46), idx(), 0, 5), 'scatterAdd of computed indices', 1e-5);
  });
  it('gather reads 0 for an index outside [0, dim) instead of reading past the buffer', async () => {
    await st.setBackend('webgpu');
    try {
      const backend = st.getBackend();
      // Straight to the kernel: ops/ would refuse these indices.
      const x = { data: backend.upload(Float32Array.from([1, 2, 3, 4, 5, 6]), 'float32'), shape: [3, 2], dtype: 'float32' as const };
      const idx = { data: backend.upload(Int32Array.from([2, 3, -1, -4, 100, -100]), 'int32'), shape: [6], dtype: 'int32' as const };
      const data = backend.kernels.gather([x, idx], { axis: 0 }, { shape: [6, 2], dtype: 'float32' });
      const y = await backend.downloadAsync?.(data, 'float32', 12);
      assert.deepEqual(Array.from(y ?? []), [5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    } finally {
      await st.setBackend('native');
    }
  });
  it('scatterAdd: repeated indices, axes, int32', async () => {
    await same(() => st.scatterAdd(r([4, 3], 11), [1, 3, 1, 0], 0, 5), 'scatterAdd rows');
    await same(() => st.scatterAdd(r([2, 2, 3, 4], 12), st.tensor([0, 2, 2, 2, 1, 0], [2, 3], 'int32'), 1, 4), 'scatterAdd 2-d indices');
    await same(() => st.scatterAdd(r([3, 6], 13, 'int32', -50, 50), [0, 1, 0, 1, 0, 1], -1, 3), 'scatterAdd int32');
    await same(() => st.scatterAdd(st.zeros([2, 0]), st.zeros([0], 'int32'), 1, 3), 'scatterAdd of no indices');
  });
  it('scatterAdd over long rows: a workgroup per row, tails of tiles and columns', async () => {
    await same(
      () =>
        st.scatterAdd(
          r([70, 20], 40),
          [...Array(70).keys()].map((k) => (k * 7) % 9),
          0,
          9,
        ),
      'scatterAdd rows of 20',
      1e-5,
    );
    await same(
      () =>
        st.scatterAdd(
          r([2, 130, 150], 41),
          [...Array(130).keys()].map((k) => (k % 5) - 2),
          1,
          6,
        ),
      'scatterAdd rows of 150, negative indices',
      1e-5,
    );
    await same(() => st.scatterAdd(r([3, 40], 42, 'int32', -50, 50), [2, 0, 2], 0, 4), 'scatterAdd int32 rows');
    await same(
      grads(
        (x) =>
          st
            .gather(
              x,
              [...Array(100).keys()].map((k) => (k * 13) % 11),
              0,
            )
            .square()
            .sum(),
        () => [r([11, 32], 43)],
      ),
      'd gather of an embedding',
      1e-5,
    );
  });
  it('scatterAdd ignores an index outside [0, dim)', async () => {
    await st.setBackend('webgpu');
    try {
      const backend = st.getBackend();
      for (const inner of [1, 20]) {
        const u = {
          data: backend.upload(
            Float32Array.from({ length: 3 * inner }, () => 1),
            'float32',
          ),
          shape: [3, inner],
          dtype: 'float32' as const,
        };
        const idx = { data: backend.upload(Int32Array.from([1, 7, -3]), 'int32'), shape: [3], dtype: 'int32' as const };
        const data = backend.kernels.scatterAdd([u, idx], { axis: 0, size: 2 }, { shape: [2, inner], dtype: 'float32' });
        const y = Array.from((await backend.downloadAsync?.(data, 'float32', 2 * inner)) ?? []);
        assert.deepEqual(y, [...Array(inner).fill(0), ...Array(inner).fill(1)], `inner ${inner}`);
      }
    } finally {
      await st.setBackend('native');
    }
  });
  it('scatterAdd is the same on every run', async () => {
    const f = () =>
      st.scatterAdd(
        r([64, 8], 14, 'float32', -1e4, 1e4),
        [...Array(64).keys()].map((k) => k % 3),
        0,
        3,
      );
    const [a, b] = [await valuesOn('webgpu', f), await valuesOn('webgpu', f)];
    assert.deepEqual(a[0].values, b[0].values);
  });
  it('gradients through transpose, slice, pad, concat and gather', async () => {
    await same(
      grads(
        (x) =>
          st
            .transpose(x, [2, 0, 1])
            .mul(st.transpose(x, [2, 0, 1]))
            .sum(),
        () => [r([2, 3, 4], 15)],
      ),
      'd transpose',
    );
    await same(
      grads(
        (x) => st.slice(x, [1, 0], [2, 3]).square().sum(),
        () => [r([4, 5], 16)],
      ),
      'd slice',
    );
    await same(
      grads(
        (x) =>
          st
            .pad(x, [
              [1, 2],
              [0, 1],
            ])
            .square()
            .sum(),
        () => [r([3, 4], 17)],
      ),
      'd pad',
    );
    await same(
      grads(
        (a, b) => st.concat([a, b], -1).square().sum(),
        () => [r([2, 3], 18), r([2, 5], 19)],
      ),
      'd concat',
    );
    await same(
      grads(
        (x) => st.gather(x, [0, 2, 2, 1, 2], 1).square().sum(),
        () => [r([2, 3, 4], 20)],
      ),
      'd gather',
    );
  });
});

describe('webgpu reductions', { skip: webgpuSkip }, () => {
  // Short and long extents, so both kernel shapes (a thread or a workgroup per output) run, over
  // kept and reduced axes that interleave.
  const cases: [number[], number | number[] | undefined][] = [
    [[7], 0],
    [[3, 5], -1],
    [[3, 5], 0],
    [
      [2, 3, 4],
      [0, 2],
    ],
    [
      [2, 3, 4, 5],
      [1, -1],
    ],
    [[2, 3, 4, 5], undefined],
    [[3, 700], 1],
    [[700, 3], 0],
    [
      [4, 300, 5],
      [0, 1],
    ],
    [
      [2, 30, 3, 20],
      [1, 3],
    ],
    [[5000, 3], 1],
    [[40, 600], -1],
    [[20000], 0],
  ];
  for (const op of ['sum', 'prod', 'max', 'min'] as const) {
    const f = st[op] as (x: st.Tensor, axis?: number | number[]) => st.Tensor;
    it(`${op}: float32 and int32, several axes`, async () => {
      for (const [shape, axis] of cases) {
        const big = count(shape) > 64;
        // Products of many values near 1 stay finite; float32 sums of thousands differ from float64 ones in the last bits.
        const x = () => (op === 'prod' ? r(shape, 21, 'float32', 0.9, 1.1) : r(shape, 21));
        await assertSameOnWebGpu(() => f(x(), axis), big ? 1e-4 : 1e-5, big ? 1e-3 : 1e-5, `${op} float32 ${shape} ${axis}`);
        // int32 products of -1, 0 and 1 stay in range (the reference refuses an overflow).
        const [lo, hi] = op === 'prod' ? [-1, 2] : [-100, 100];
        await same(() => f(r(shape, 22, 'int32', lo, hi), axis), `${op} int32 ${shape} ${axis}`);
      }
    });
  }
  it('sum of bools, reductions over empty axes', async () => {
    await same(() => st.sum(r([4, 300], 23, 'bool'), 1), 'sum bool');
    await same(() => [st.sum(st.zeros([3, 0]), 1), st.prod(st.zeros([0, 2]), 0), st.sum(st.zeros([0, 4]), 1)], 'empty');
  });
  it('int32 sums and products wrap', async () => {
    await st.setBackend('webgpu');
    try {
      const x = st.tensor([2147483647, 1, 5], [3], 'int32');
      assert.deepEqual(Array.from(await st.sum(x).data()), [-2147483648 + 5]);
      assert.deepEqual(Array.from(await st.prod(st.tensor([65536, 65536, 3], [3], 'int32')).data()), [0]);
    } finally {
      await st.setBackend('native');
    }
  });
  it('max and min propagate NaN in either kernel shape', async () => {
    for (const n of [5, 1000]) {
      const v = randomValues(2 * n, 24);
      v[3] = Number.NaN;
      v[n + n - 1] = Number.NaN;
      await same(() => [st.max(st.tensor(v, [2, n]), 1), st.min(st.tensor(v, [2, n]), 1)], `NaN over ${n}`);
    }
    await same(
      () => [st.max(st.tensor([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])), st.min(st.tensor([Number.POSITIVE_INFINITY]))],
      'infinities',
    );
  });
  for (const op of ['argMax', 'argMin'] as const) {
    it(`${op}: axes, dtypes, ties and NaN`, async () => {
      const f = st[op];
      for (const [shape, axis] of [
        [[7], 0],
        [[3, 5], -1],
        [[3, 5], 0],
        [[2, 3, 4], 1],
        [[3, 700], 1],
        [[700, 3], 0],
        [[2, 600, 3], 1],
      ] as [number[], number][]) {
        for (const dtype of DTYPES) await same(() => f(r(shape, 25, dtype, -3, 3), axis), `${op} ${dtype} ${shape} ${axis}`);
      }
      // Ties (few distinct values) must give the first index in both kernel shapes.
      for (const n of [6, 900]) await same(() => f(r([3, n], 26, 'int32', 0, 2), 1), `${op} ties ${n}`);
      for (const n of [6, 900]) {
        const v = randomValues(3 * n, 27);
        v[4] = Number.NaN;
        v[2] = Number.NaN;
        v[n + 1] = Number.NaN;
        v[3 * n - 1] = Number.NaN;
        await same(() => f(st.tensor(v, [3, n]), 1), `${op} NaN ${n}`);
      }
      await same(() => f(r([2, 3, 4], 28)), `${op} flattened`);
    });
  }
  it('gradients through sum and max', async () => {
    await same(
      grads(
        (x) => st.sum(x, [0, 2]).square().sum(),
        () => [r([3, 4, 5], 29)],
      ),
      'd sum',
      1e-5,
    );
    await same(
      grads(
        (x) => st.max(x, -1).sum(),
        () => [r([4, 300], 30)],
      ),
      'd max',
    );
    await same(
      grads(
        (x) => st.mean(st.max(x, 0)).add(st.min(x, [0, 1])),
        () => [r([5, 4], 31)],
      ),
      'd max min',
    );
  });
});

describe('webgpu slice start', { skip: webgpuSkip }, () => {
  it('slicing batch after batch compiles one pipeline, not one per start', async () => {
    await st.setBackend('webgpu');
    try {
      const x = st.tensor(
        Array.from({ length: 40 }, (_, i) => i),
        [10, 4],
      );
      const backend = st.getBackend() as unknown as { counters(): { pipelines: number } };
      await st.slice(x, [1, 0], [2, 2]).data();
      const before = backend.counters().pipelines;
      for (let i = 2; i < 5; i++)
        assert.deepEqual(Array.from(await st.slice(x, [2 * i, 1], [2, 2]).data()), [8 * i + 1, 8 * i + 2, 8 * i + 5, 8 * i + 6]);
      assert.equal(backend.counters().pipelines, before);
    } finally {
      await st.setBackend('native');
    }
  });
});
