// The webgpu backend's argsortRows kernel (Note [Bitonic argsort on the GPU] in
// src/backend/webgpu/kernels-sort.ts) and the ops built on it on a backend without synchronous
// reads (sort, argsort, topk, searchSorted, takeAlongAxis of device-computed indices), against
// the reference backend's host path: ties (the lower index first), NaN, -0 and infinities, rows
// shorter than, equal to and longer than a workgroup's chunk, both directions, and int32.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { randomValues } from './helpers.js';
import { assertSameOnWebGpu, valuesOn, webgpuSkip } from './webgpu-helpers.js';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Values with many ties (a few distinct levels) and, with `special`, NaN, ±0 and ±Infinity sprinkled in. */
function tied(shape: number[], seed: number, special = true): number[] {
  const specials = [Number.NaN, -0, 0, Infinity, -Infinity];
  return randomValues(size(shape), seed, 0, 1).map((u, i) => {
    if (special && i % 7 === 3) return specials[Math.floor(u * specials.length)];
    return Math.round(u * 12) / 4 - 1.5;
  });
}

const floats = (shape: number[], seed: number, special = true) => st.tensor(tied(shape, seed, special), shape);
const ints = (shape: number[], seed: number) =>
  st.tensor(
    randomValues(size(shape), seed, -(2 ** 31), 2 ** 31 - 1).map((v, i) =>
      i % 5 === 0 ? [0, -(2 ** 31), 2 ** 31 - 1][i % 3] : Math.floor(v / 2 ** 28),
    ),
    shape,
    'int32',
  );

const shapes: [string, number[]][] = [
  ['rows of 7', [5, 7]],
  ['rows of one', [6, 1]],
  ['many short rows (several to a workgroup, several workgroups)', [1500, 3]],
  ['rows of exactly a chunk (1024)', [2, 1024]],
  ['rows just past a chunk (1025)', [2, 1025]],
  ['long rows (5000: merged across chunks)', [3, 5000]],
];

describe('webgpu argsortRows and the sorting ops', { skip: webgpuSkip }, () => {
  let seed = 1;
  for (const [name, shape] of shapes) {
    for (const descending of [false, true]) {
      it(`argsort and sort over ${name}${descending ? ', descending' : ''}`, async () => {
        const s = (seed += 1);
        await assertSameOnWebGpu(
          () => {
            const x = floats(shape, s);
            return [st.argsort(x, -1, descending), st.sort(x, -1, descending)];
          },
          0,
          0,
          `sort ${name}`,
        );
      });
    }
    it(`int32 argsort over ${name}`, async () => {
      const s = (seed += 1);
      await assertSameOnWebGpu(
        () => {
          const x = ints(shape, s);
          return [st.argsort(x), st.sort(x, -1, true)];
        },
        0,
        0,
        `int32 sort ${name}`,
      );
    });
  }

  it('sort along the first and a middle axis', async () => {
    await assertSameOnWebGpu(
      () => {
        const x = floats([6, 5, 4], 40);
        return [st.sort(x, 0), st.argsort(x, 1, true), st.sort(x, -2)];
      },
      0,
      0,
      'sort axes',
    );
  });

  it('topk for k = 0, 1, a few and all, rows short and long', async () => {
    for (const [shape, ks] of [
      [
        [4, 9],
        [0, 1, 3, 9],
      ],
      [
        [2, 3, 2000],
        [1, 5, 1500],
      ],
    ] as [number[], number[]][]) {
      for (const k of ks) {
        await assertSameOnWebGpu(
          () => {
            const t = st.topk(floats(shape, 50 + k), k);
            return [t.values, t.indices];
          },
          0,
          0,
          `topk ${shape} k=${k}`,
        );
      }
    }
  });

  it('empty tensors', async () => {
    await assertSameOnWebGpu(() => [st.argsort(st.zeros([0, 4])), st.sort(st.zeros([3, 0])), st.topk(st.zeros([2, 5]), 0).values], 0, 0, 'empty');
  });

  it('an input computed on the device (no host copy)', async () => {
    await assertSameOnWebGpu(
      () => {
        const x = st.mul(floats([4, 300], 60, false), 2);
        return st.topk(x, 7).indices;
      },
      0,
      0,
      'computed input',
    );
  });

  it('sort values carry gradients through the gather', async () => {
    await assertSameOnWebGpu(
      () => {
        const v = st.variable(floats([3, 40], 70, false));
        st.sort(v, -1, true).backward(st.tensor(randomValues(120, 71), [3, 40]));
        return v.grad as st.Tensor;
      },
      0,
      0,
      'sort gradient',
    );
  });

  it('searchSorted, batched and not, both sides, with ties', async () => {
    await assertSameOnWebGpu(
      () => {
        const seq = st.sort(floats([3, 50], 80, false));
        const values = floats([3, 20], 81, false);
        const flatSeq = st.tensor([-1, 0, 0, 0, 1, 2.5, 2.5, 7]);
        const flatValues = st.tensor([
          [-2, 0, 2.5],
          [3, 7, 8],
        ]);
        return [
          st.searchSorted(seq, values, 'left'),
          st.searchSorted(seq, values, 'right'),
          st.searchSorted(flatSeq, flatValues, 'left'),
          st.searchSorted(flatSeq, flatValues, 'right'),
        ];
      },
      0,
      0,
      'searchSorted',
    );
  });

  it('takeAlongAxis with indices computed on the device, broadcast and negative', async () => {
    await assertSameOnWebGpu(
      () => {
        const x = floats([4, 6, 5], 90, false);
        const order = st.argsort(x, 1);
        const negative = st.sub(st.argsort(floats([1, 6, 5], 91, false), 1), 6);
        return [st.takeAlongAxis(x, order, 1), st.takeAlongAxis(x, negative, 1), st.takeAlongAxis(x, st.argsort(x, 2), 2)];
      },
      0,
      0,
      'takeAlongAxis',
    );
  });

  it('unique says how to read first when its input is on the device', async () => {
    const out = await valuesOn('webgpu', () => st.unique(st.tensor([3, 1, 3, 2])).indices);
    assert.deepEqual(out[0].values, [0, 1, 0, 2]);
    const previous = st.getBackend().name;
    await st.setBackend('webgpu');
    try {
      assert.throws(() => st.unique(st.mul(st.tensor([3, 1, 3]), 1)), /read it first/);
    } finally {
      await st.setBackend(previous);
    }
  });
});
