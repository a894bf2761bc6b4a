// The wasm backend's own checks: transcendental accuracy against Math.*, broadcasting and
// reduction paths against the reference backend, heap reuse, threads, out-of-memory errors and
// the reproducible build (the conformance suites cover the primitives on every backend).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { WasmHeap } from '../src/backend/wasm/heap.js';
import { initWasm, WasmBackend } from '../src/backend/wasm/index.js';
import { WA } from '../src/backend/wasm/wasm-api.js';
import { assertClose, randomValues, withBackend } from './helpers.js';

const wasm = st.backends().find((b) => b.name === 'wasm');
const skip = wasm?.available ? false : 'wasm backend unavailable';

/** Values of `op` on the wasm backend for float32 inputs `xs`. */
function onWasm(op: (x: st.Tensor) => st.Tensor, xs: Float32Array): Float32Array {
  return withBackend('wasm', () => op(st.tensor(xs, [xs.length], 'float32')).dataSync() as Float32Array);
}

/** Float32 values spread over [lo, hi], plus the same scaled toward 0 (down to subnormals). */
function spread(lo: number, hi: number, n = 20000): Float32Array {
  const xs = new Float32Array(n);
  const r = randomValues(n, 7, 0, 1);
  for (let i = 0; i < n; i++) xs[i] = (lo + (hi - lo) * r[i]) * (i % 4 === 3 ? 10 ** -((i % 40) + 1) : 1);
  return xs;
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const SPECIALS = new Float32Array([0, -0, Infinity, -Infinity, NaN, 1e-40, -1e-40, 3e38, -3e38, 1e20, 1.5e10, 88.7, -87.5, -100, 1, 2, 1e-7]);

describe('wasm transcendental functions against Math.*', { skip }, () => {
  const cases: [string, (x: st.Tensor) => st.Tensor, (x: number) => number, number, number][] = [
    ['exp', st.exp, Math.exp, -104, 89],
    ['log', st.log, Math.log, 0, 3e38],
    ['log near 1', st.log, Math.log, 0.5, 2],
    ['tanh', st.tanh, Math.tanh, -12, 12],
    ['sigmoid', st.sigmoid, sigmoid, -110, 110],
    ['sin', st.sin, Math.sin, -1e4, 1e4],
    ['cos', st.cos, Math.cos, -1e4, 1e4],
    ['sin of large arguments', st.sin, Math.sin, -3e38, 3e38],
    ['cos of large arguments', st.cos, Math.cos, -1e9, 1e9],
  ];
  for (const [name, op, f, lo, hi] of cases) {
    it(`${name}: relative error under 4e-7 over [${lo}, ${hi}], and the special values`, () => {
      const xs = Float32Array.from([...spread(lo, hi), ...SPECIALS]);
      const ys = onWasm(op, xs);
      let worst = 0,
        at = 0;
      for (let i = 0; i < xs.length; i++) {
        const want = Math.fround(f(xs[i]));
        if (Object.is(ys[i], want) || (Number.isNaN(want) && Number.isNaN(ys[i]))) continue;
        // Relative to the result, with an absolute floor at float32's smallest normal.
        const err = Math.abs(ys[i] - want) / Math.max(Math.abs(want), 1.2e-38);
        if (!(err <= worst)) {
          worst = err;
          at = i;
        }
      }
      assert.ok(worst <= 4e-7, `${name}(${xs[at]}) = ${ys[at]}, Math gives ${Math.fround(f(xs[at]))} (relative error ${worst})`);
    });
  }

  it('pow matches Math.pow on special cases and negative bases', () => {
    const bases = [0, -0, 1, -1, 2, -2, 0.5, -0.5, 3, Infinity, -Infinity, NaN, 1e-30, 1e30];
    const exps = [0, -0, 1, -1, 2, 3, -3, 0.5, -0.5, 2.5, Infinity, -Infinity, NaN, 31, 100];
    const a: number[] = [],
      b: number[] = [];
    for (const x of bases) {
      for (const y of exps) {
        a.push(x);
        b.push(y);
      }
    }
    const got = withBackend('wasm', () => st.pow(st.tensor(a, [a.length]), st.tensor(b, [b.length])).dataSync());
    a.forEach((x, i) => {
      const want = Math.fround(Math.pow(Math.fround(x), Math.fround(b[i])));
      assert.ok(Object.is(got[i], want) || Math.abs(got[i] - want) <= 1e-7 * Math.abs(want), `pow(${x}, ${b[i]}) = ${got[i]}, expected ${want}`);
    });
    const ints = withBackend('wasm', () => st.pow(st.tensor([3, -2, 7, 0, 5], [5], 'int32'), st.tensor([4, 3, 11, 0, 14], [5], 'int32')).dataSync());
    assert.deepEqual([...ints], [81, -8, 1977326743, 1, 6103515625 | 0]);
  });
});

/** Random shapes that broadcast against `out`: each axis kept or set to 1, leading axes sometimes dropped. */
function broadcastable(out: number[], seed: number): number[] {
  const r = randomValues(out.length + 1, seed, 0, 1);
  const shape = out.map((d, i) => (r[i] < 0.35 ? 1 : d));
  return shape.slice(Math.floor(r[out.length] * 2) && shape.length > 1 ? 1 : 0);
}

describe('wasm broadcasting and reductions against the reference backend', { skip }, () => {
  const outs = [[7], [3, 5], [4, 1, 6], [2, 3, 4, 5], [2, 1, 3, 1, 9], [5, 17]];
  const ops: [string, (a: st.Tensor, b: st.Tensor) => st.Tensor][] = [
    ['add', st.add],
    ['mul', st.mul],
    ['div', st.div],
    ['maximum', st.maximum],
    ['greater', st.greater],
    ['pow', (a, b) => st.pow(st.abs(a), b)],
  ];
  for (const out of outs) {
    it(`binary ops over random broadcasts of [${out}]`, () => {
      for (let seed = 1; seed <= 12; seed++) {
        const sa = broadcastable(out, seed),
          sb = broadcastable(out, seed + 100);
        const va = randomValues(
            sa.reduce((x, y) => x * y, 1),
            seed,
            -3,
            3,
          ),
          vb = randomValues(
            sb.reduce((x, y) => x * y, 1),
            seed + 7,
            -3,
            3,
          );
        for (const [name, f] of ops) {
          const run = (backend: string) => withBackend(backend, () => Array.from(f(st.tensor(va, sa), st.tensor(vb, sb)).dataSync()));
          assertClose(run('wasm'), run('reference'), 1e-6, 1e-7, `${name} [${sa}] with [${sb}]`);
        }
      }
    });
  }
  it('transposes (tiled and not) under every permutation', () => {
    const perms = (n: number): number[][] =>
      n === 1 ? [[0]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
    for (const shape of [
      [3, 20, 33],
      [2, 17, 9, 18],
      [40, 3, 1, 25],
    ]) {
      const v = randomValues(
        shape.reduce((a, b) => a * b, 1),
        11,
      );
      for (const perm of perms(shape.length)) {
        for (const dtype of ['float32', 'bool'] as const) {
          const run = (backend: string) => withBackend(backend, () => Array.from(st.transpose(st.tensor(v, shape, dtype), perm).dataSync()));
          assert.deepEqual(run('wasm'), run('reference'), `transpose [${shape}] by [${perm}] (${dtype})`);
        }
      }
    }
  });

  it('concat along every axis, float32 and bool', () => {
    for (let axis = 0; axis < 3; axis++) {
      for (const dtype of ['float32', 'bool'] as const) {
        const shapes = [2, 5, 3].map((k) => [4, 6, 7].map((d, i) => (i === axis ? k : d)));
        const run = (backend: string) =>
          withBackend(backend, () => {
            const parts = shapes.map((shape, i) =>
              st.tensor(
                randomValues(
                  shape.reduce((a, b) => a * b, 1),
                  20 + i,
                ),
                shape,
                dtype,
              ),
            );
            return Array.from(st.concat(parts, axis).dataSync());
          });
        assert.deepEqual(run('wasm'), run('reference'), `concat along ${axis} (${dtype})`);
      }
    }
  });

  it('reductions over every subset of axes of rank-4 tensors', () => {
    for (const shape of [
      [3, 4, 5, 6],
      [2, 3, 19, 37],
    ])
      reductions(shape);
  });
  const reductions = (shape: number[]) => {
    const v = randomValues(
      shape.reduce((a, b) => a * b, 1),
      3,
      -2,
      2,
    );
    for (let mask = 1; mask < 16; mask++) {
      const axes = [0, 1, 2, 3].filter((i) => mask & (1 << i));
      for (const op of [st.sum, st.max, st.min, st.prod] as const) {
        const run = (backend: string) => withBackend(backend, () => Array.from(op(st.tensor(v, shape), axes).dataSync()));
        assertClose(run('wasm'), run('reference'), 2e-6, 1e-7, `${op.name} over [${axes}]`);
      }
      const ints = (backend: string) => withBackend(backend, () => Array.from(st.sum(st.tensor(v.map(Math.round), shape, 'int32'), axes).dataSync()));
      assert.deepEqual(ints('wasm'), ints('reference'));
    }
  };
});

describe('wasm heap', { skip }, () => {
  it('gives storage back on dispose(), and a 200-step loop keeps the heap flat', () => {
    withBackend('wasm', () => {
      const backend = st.getBackend() as WasmBackend;
      const w = st.variable(st.randomNormal([64]));
      const x = st.randomNormal([16, 64]);
      const before = backend.memory();
      // Every intermediate disposed (storage left to the GC goes back between tasks, or when the
      // heap would grow past 64 MiB more; a 2-D matmul's 3-D intermediate shares its output's
      // storage and is such a tensor, so it is not in this loop).
      const step = () => {
        const h = st.mul(x, w);
        const y = st.tanh(h);
        const y2 = st.mul(y, y);
        const s = st.sum(y2);
        s.item();
        for (const t of [h, y, y2, s]) t.dispose();
      };
      for (let i = 0; i < 20; i++) step();
      const warm = backend.memory();
      const one = st.ones([1]); // a plain 1 would make a new constant tensor each step, left to the GC
      for (let i = 0; i < 200; i++) {
        const a = st.add(x, one);
        const b = st.exp(a);
        a.dispose();
        b.dispose();
        step();
      }
      assert.equal(backend.memory().heapBytes, warm.heapBytes, 'the memory did not grow');
      for (const t of [w, x, one]) t.dispose();
      // Storage made and disposed: the live count and bytes are back where they were.
      const base = backend.memory();
      const made = [st.zeros([1000]), st.ones([3, 7], 'int32'), st.tensor([true, false])];
      const sum = st.add(made[0], made[0]);
      const view = st.reshape(sum, [10, 100]);
      assert.equal(backend.memory().buffers, base.buffers + 4);
      for (const t of [...made, sum, view]) t.dispose();
      const end = backend.memory();
      assert.deepEqual([end.buffers, end.bytes], [base.buffers, base.bytes]);
      assert.ok(before.heapBytes <= end.heapBytes);
    });
  });

  it('a synchronous loop that never disposes stays bounded (dead storage freed before the memory grows)', () => {
    withBackend('wasm', () => {
      const backend = st.getBackend() as WasmBackend;
      const x = st.randomNormal([512, 1024]); // 2 MiB
      for (let i = 0; i < 300; i++) st.tanh(st.add(x, i)); // 1.2 GiB made, none disposed
      const { heapBytes } = backend.memory();
      assert.ok(heapBytes < 300 * 2 ** 20, `the memory grew to ${heapBytes} bytes`);
      x.dispose();
    });
  });

  it('at its limit, the allocator reuses freed neighbours and the freed top, splitting what it takes', () => {
    const heap = new WasmHeap(new WA.Memory({ initial: 16, maximum: 64 }), 1024, 64 * 65536);
    const fill = () => {
      const blocks: number[] = [];
      assert.throws(() => {
        for (;;) blocks.push(heap.alloc(4096));
      }, /out of memory allocating 4096 bytes/);
      return blocks;
    };
    const blocks = fill();
    for (const p of blocks) heap.free(p);
    const big = heap.alloc(2_000_000); // only as one run of freed blocks
    heap.free(big);
    const again = fill(); // the big block is split into 4096-byte ones
    assert.ok(again.length >= blocks.length - 1, `${again.length} blocks, ${blocks.length} before`);
    again.forEach((p, i) => i % 4 !== 0 && heap.free(p));
    assert.ok(heap.alloc(12_000) > 0); // three freed neighbours
    assert.throws(() => heap.alloc(100_000), /out of memory allocating 100000 bytes/);
  });

  it('an allocation past the memory limit throws a RangeError naming the bytes', () => {
    const small = new WasmBackend({ threads: false, maxBytes: 4 * 2 ** 20 });
    const h = small.upload(new Float32Array(1000), 'float32');
    assert.throws(() => small.upload(new Float32Array(2_000_000), 'float32'), /out of memory allocating 8000000 bytes/);
    small.release(h);
    assert.equal(small.memory().buffers, 0);
  });
});

describe('wasm threads', { skip }, () => {
  it('results do not depend on the thread count', async () => {
    const backend = withBackend('wasm', () => st.getBackend() as WasmBackend);
    // Workers start asynchronously; give them a moment to report ready.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const detail = st.backends().find((b) => b.name === 'wasm')?.detail ?? '';
    assert.match(detail, /^simd, /);
    const run = (threads: number) => {
      st.setNumThreads(threads);
      return withBackend('wasm', () => {
        const x = st.tensor(randomValues(600 * 700, 5, -4, 4), [600, 700]);
        const y = st.add(st.tanh(st.mul(x, 1.5)), st.sum(x, 1, true));
        return [y, st.max(y, 0), st.matmul(y, st.transpose(y)), st.exp(x)].map((t) => Array.from(t.dataSync()));
      });
    };
    const previous = st.getNumThreads();
    try {
      const one = run(1),
        two = run(2);
      one.forEach((a, i) => assert.deepEqual(two[i], a, `result ${i}`));
    } finally {
      st.setNumThreads(previous);
    }
    assert.ok(backend.describe().startsWith('simd'));
  });
});

describe('wasm without threads (a page that is not cross-origin isolated)', { skip }, () => {
  it("the single-threaded module gives the threaded one's results", async () => {
    await initWasm(); // the browser main thread's path: compiled asynchronously first
    st.registerBackend('wasm-single', () => new WasmBackend({ threads: false }), -1);
    const single = st.backends().find((b) => b.name === 'wasm-single');
    assert.equal(single?.detail, 'simd, 1 thread (threads off)');
    const run = (backend: string) =>
      withBackend(backend, () => {
        const x = st.tensor(randomValues(200 * 300, 9, -3, 3), [200, 300]);
        const y = st.sigmoid(st.sub(x, st.mean(x, 0)));
        return [y, st.argMax(y, 1), st.matmul(x, y, true)].map((t) => Array.from(t.dataSync()));
      });
    const a = run('wasm-single'),
      b = run('wasm');
    a.forEach((values, i) => assert.deepEqual(values, b[i], `result ${i}`));
  });
});

describe('wasm build', () => {
  const clang = spawnSync('clang', ['--version']).status === 0;
  it('node scripts/build-wasm.mjs --check: the committed binaries match the sources', { skip: clang ? false : 'clang not installed' }, () => {
    const r = spawnSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});
