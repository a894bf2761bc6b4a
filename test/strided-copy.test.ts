// The native backend's strided copy (transpose, broadcastTo, slice; native/src/strided_copy.cc,
// Note [Strided copy paths]) and its reductions over one run of axes (native/src/reduce.cc,
// Note [Reducing one run of axes]) against the reference backend, to the bit, on random inputs.
// Shapes are odd and not multiples of the 16x16 tiles or the 8x8 register blocks, so every
// path's ragged edges run; some are large enough (> 1 MiB) for the multi-threaded split, and
// the tests run on 2 threads so that split is taken.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { randomValues, withBackend } from './helpers.js';

const native = st.backends().find((b) => b.name === 'native');
const skip = native?.available ? false : `native backend unavailable: ${native?.reason ?? 'not registered'}`;

const DTYPES: st.DType[] = ['float32', 'int32', 'bool'];

/** Random values of `dtype`: floats with a NaN and a -0 among them, int32 across the whole range, bools. */
function values(n: number, dtype: st.DType, seed: number): number[] {
  const v = randomValues(n, seed, -1, 1);
  if (dtype === 'int32') return v.map((x) => Math.round(x * 2 ** 31 * 0.999));
  if (dtype === 'bool') return v.map((x) => (x > 0 ? 1 : 0));
  const f = v.map((x) => x * 10);
  if (n > 2) {
    f[Math.floor(n / 3)] = Number.NaN;
    f[Math.floor(n / 2)] = -0;
  }
  return f;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface Result {
  shape: number[];
  dtype: st.DType;
  bytes: Uint8Array;
}

/** Runs f on `backend` over a tensor of the given values; returns the result's raw bytes. */
function run(backend: string, shape: number[], dtype: st.DType, vals: number[], f: (x: st.Tensor) => st.Tensor): Result {
  return withBackend(backend, () => {
    const y = f(st.tensor(vals, shape, dtype));
    const data = y.dataSync() as Float32Array | Int32Array | Uint8Array;
    return { shape: [...y.shape], dtype: y.dtype, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() };
  });
}

/** f on native equals f on reference, byte for byte (NaN payloads and -0 included). */
function assertSame(shape: number[], dtype: st.DType, seed: number, f: (x: st.Tensor) => st.Tensor, what: string): void {
  const vals = values(size(shape), dtype, seed);
  const got = run('native', shape, dtype, vals, f);
  const want = run('reference', shape, dtype, vals, f);
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  assert.equal(got.dtype, want.dtype, `${what}: dtype`);
  assert.equal(got.bytes.length, want.bytes.length, `${what}: byte length`);
  const width = got.dtype === 'bool' ? 1 : 4;
  for (let i = 0; i < got.bytes.length; i++) {
    if (got.bytes[i] !== want.bytes[i]) {
      assert.fail(`${what}: element ${Math.floor(i / width)} of ${got.bytes.length / width} differs (native vs reference)`);
    }
  }
}

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

let threads = 1;
before(() => {
  threads = st.getNumThreads();
  st.setNumThreads(2);
});
after(() => st.setNumThreads(threads));

describe('native transpose matches the reference backend bit for bit', { skip }, () => {
  it('every permutation of a rank-4 shape, every dtype', () => {
    // 11 and 19 leave ragged 8x8 blocks and tiles; 3 takes the interleave paths.
    const shape = [3, 11, 19, 13];
    let seed = 1;
    for (const dtype of DTYPES) {
      for (const perm of permutations(4)) assertSame(shape, dtype, seed++, (x) => st.transpose(x, perm), `${dtype} [${shape}] perm [${perm}]`);
    }
  });

  it('ranks 2, 3 and 5 with odd sizes', () => {
    const cases: [number[], number[]][] = [
      [
        [37, 29],
        [1, 0],
      ],
      [
        [1, 45],
        [1, 0],
      ],
      [
        [9, 1, 23],
        [2, 1, 0],
      ],
      [
        [17, 33, 5],
        [1, 2, 0],
      ],
      [
        [5, 33, 17],
        [2, 0, 1],
      ],
      [
        [2, 3, 5, 7, 11],
        [4, 2, 0, 3, 1],
      ],
      [
        [3, 1, 17, 2, 9],
        [0, 4, 2, 1, 3],
      ],
      [
        [2, 9, 10, 3, 4],
        [0, 3, 1, 2, 4],
      ],
    ];
    let seed = 100;
    for (const dtype of DTYPES) {
      for (const [shape, perm] of cases) assertSame(shape, dtype, seed++, (x) => st.transpose(x, perm), `${dtype} [${shape}] perm [${perm}]`);
    }
  });

  it('NCHW <-> NHWC with 1 to 5 channels and with rows 4 KiB apart', () => {
    let seed = 200;
    for (const dtype of DTYPES) {
      for (const c of [1, 2, 3, 4, 5]) {
        assertSame([2, c, 13, 11], dtype, seed++, (x) => st.transpose(x, [0, 2, 3, 1]), `${dtype} NCHW -> NHWC, C = ${c}`);
        assertSame([2, 13, 11, c], dtype, seed++, (x) => st.transpose(x, [0, 3, 1, 2]), `${dtype} NHWC -> NCHW, C = ${c}`);
      }
      // H * W = 1024 elements: Note [Tiles and 4 KiB strides].
      assertSame([2, 32, 32, 24], dtype, seed++, (x) => st.transpose(x, [0, 3, 1, 2]), `${dtype} NHWC -> NCHW, H * W = 1024`);
      assertSame([2, 24, 32, 32], dtype, seed++, (x) => st.transpose(x, [0, 2, 3, 1]), `${dtype} NCHW -> NHWC, H * W = 1024`);
    }
  });

  it('large enough for the multi-threaded split (> 1 MiB)', () => {
    assertSame([3, 67, 45, 37], 'float32', 300, (x) => st.transpose(x, [0, 3, 1, 2]), 'float32 NHWC -> NCHW');
    assertSame([3, 37, 67, 45], 'int32', 301, (x) => st.transpose(x, [0, 2, 3, 1]), 'int32 NCHW -> NHWC');
    assertSame([1, 3, 300, 301], 'float32', 302, (x) => st.transpose(x, [0, 2, 3, 1]), 'float32 NCHW -> NHWC, C = 3');
    assertSame([1, 300, 301, 3], 'float32', 303, (x) => st.transpose(x, [0, 3, 1, 2]), 'float32 NHWC -> NCHW, C = 3');
    assertSame([1037, 1021], 'bool', 304, (x) => st.transpose(x, [1, 0]), 'bool 2-D');
  });
});

describe('native slice and broadcastTo match the reference backend bit for bit', { skip }, () => {
  it('random slices of ranks 2 to 5', () => {
    const shapes = [
      [13, 17],
      [7, 9, 11],
      [3, 5, 7, 9],
      [2, 3, 5, 4, 7],
    ];
    let seed = 400;
    for (const dtype of DTYPES) {
      for (const shape of shapes) {
        for (let k = 0; k < 6; k++) {
          const r = randomValues(2 * shape.length, seed, 0, 1);
          const begin = shape.map((d, i) => Math.floor(r[i] * d));
          const sz = shape.map((d, i) => 1 + Math.floor(r[shape.length + i] * (d - begin[i])));
          assertSame(shape, dtype, seed++, (x) => st.slice(x, begin, sz), `${dtype} [${shape}] begin [${begin}] size [${sz}]`);
        }
        // One element of the last axis (the generic path) and a block of leading rows (one run).
        const last = shape.length - 1;
        const one = shape.map((d, i) => (i === last ? 1 : d));
        const sliceFrom = (begin: number[], size: number[]) => (x: st.Tensor) => st.slice(x, begin, size);
        assertSame(
          shape,
          dtype,
          seed++,
          sliceFrom(
            shape.map((_, i) => (i === last ? 2 : 0)),
            one,
          ),
          `${dtype} [${shape}] one column`,
        );
        const rows = shape.map((d, i) => (i === 0 ? d - 2 : d));
        assertSame(
          shape,
          dtype,
          seed++,
          sliceFrom(
            shape.map((_, i) => (i === 0 ? 1 : 0)),
            rows,
          ),
          `${dtype} [${shape}] leading rows`,
        );
      }
    }
  });

  it('large slices (> 1 MiB): a block of rows and a window of columns', () => {
    assertSame([700, 1001], 'float32', 500, (x) => st.slice(x, [50, 0], [400, 1001]), 'float32 rows');
    assertSame([700, 1001], 'int32', 501, (x) => st.slice(x, [3, 5], [690, 990]), 'int32 columns');
    assertSame([1300, 1001], 'bool', 502, (x) => st.slice(x, [3, 5], [1290, 990]), 'bool columns');
  });

  it('broadcasts of rows, columns and middle axes', () => {
    const cases: [number[], number[]][] = [
      [[13], [3, 5, 13]],
      [
        [7, 1],
        [7, 19],
      ],
      [
        [1, 9, 1],
        [4, 9, 11],
      ],
      [
        [5, 1, 3],
        [2, 5, 7, 3],
      ],
      [[1], [3, 4]],
      [[300], [1000, 300]],
    ];
    let seed = 600;
    for (const dtype of DTYPES) {
      for (const [shape, target] of cases) assertSame(shape, dtype, seed++, (x) => st.broadcastTo(x, target), `${dtype} [${shape}] -> [${target}]`);
    }
  });
});

describe('native reductions over one run of axes match the reference backend bit for bit', { skip }, () => {
  // [N, H, W, C] with middle, leading, trailing and single-axis runs, and a non-run for contrast.
  const AXES: number[][] = [[1, 2], [0, 1, 2], [2, 3], [1], [3], [0], [0, 1, 2, 3], [0, 2]];
  const SHAPES = [
    [2, 7, 5, 300],
    [1, 7, 7, 1280],
    [3, 1, 9, 11],
  ];

  it('sum and mean, float32 and int32', () => {
    let seed = 700;
    for (const shape of SHAPES) {
      for (const axes of AXES) {
        assertSame(shape, 'float32', seed++, (x) => st.sum(x, axes), `float32 sum [${shape}] over [${axes}]`);
        assertSame(shape, 'float32', seed++, (x) => st.mean(x, axes), `float32 mean [${shape}] over [${axes}]`);
        assertSame(shape, 'int32', seed++, (x) => st.sum(st.floorDiv(x, 4096), axes), `int32 sum [${shape}] over [${axes}]`);
        assertSame(shape, 'bool', seed++, (x) => st.sum(x, axes), `bool sum [${shape}] over [${axes}]`);
      }
    }
  });

  it('max, min and prod (NaN among the floats)', () => {
    let seed = 800;
    for (const shape of SHAPES) {
      for (const axes of AXES) {
        assertSame(shape, 'float32', seed++, (x) => st.max(x, axes), `float32 max [${shape}] over [${axes}]`);
        assertSame(shape, 'float32', seed++, (x) => st.min(x, axes), `float32 min [${shape}] over [${axes}]`);
        assertSame(shape, 'int32', seed++, (x) => st.max(x, axes), `int32 max [${shape}] over [${axes}]`);
        // Factors near 1, so the products neither vanish nor overflow.
        assertSame(shape, 'float32', seed++, (x) => st.prod(st.add(st.mul(x, 0.01), 1), axes), `float32 prod [${shape}] over [${axes}]`);
      }
    }
  });

  it('large enough for the multi-threaded split', () => {
    assertSame([8, 7, 7, 1280], 'float32', 900, (x) => st.sum(x, [1, 2]), 'float32 sum over H, W');
    assertSame([8, 7, 7, 1280], 'float32', 901, (x) => st.max(x, [1, 2]), 'float32 max over H, W');
    assertSame([3000, 200], 'float32', 902, (x) => st.sum(x, [1]), 'float32 row sums');
    assertSame([8, 7, 7, 1280], 'int32', 903, (x) => st.sum(st.floorDiv(x, 4096), [1, 2]), 'int32 sum over H, W');
  });
});
