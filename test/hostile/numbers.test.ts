// Issue 22, item 5 ("Bad numbers"): numbers that used to become other numbers, or crash the
// process, without a word. A thread count that oversubscribes OpenMP until it dies inside a
// kernel; int32 tensors that wrap 3e9 to -1294967296 on creation, on a cast and in a sum; and
// messages that print NaN as null because they went through JSON.stringify. Each case runs on
// every available backend.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as st from '../../src/index.js';
import { withBackend, withBackendAsync, throwsWith, rejectsWith } from '../helpers.js';

const BACKENDS = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);
const nativeAvailable = BACKENDS.includes('native');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RANGE = /\[-2147483648, 2147483647\]/;

const values = (t: st.Tensor) => Array.from(t.dataSync());

describe('setNumThreads refuses counts that are not a usable number of threads', () => {
  it('non-integers, zero, negatives, NaN, Infinity and strings are ValueErrors naming what was received', () => {
    for (const [n, shown] of [
      [2.5, '2.5'],
      [0, '0'],
      [-3, '-3'],
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      ['4', '"4"'],
    ] as const) {
      throwsWith(
        () => st.setNumThreads(n as number),
        st.ValueError,
        /^setNumThreads: expected a positive integer no larger than \d+; received /,
        new RegExp(`received ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      );
    }
  });

  it('a count above the documented maximum (1024, or the core count if larger) is refused and says why', () => {
    const previous = st.getNumThreads();
    throwsWith(() => st.setNumThreads(1e6), st.ValueError, /no larger than \d+/, /received 1000000/, /oversubscribe/);
    assert.equal(st.getNumThreads(), previous, 'a refused count changes nothing');
    st.setNumThreads(1024); // the maximum itself is accepted
    st.setNumThreads(previous);
  });

  it('in a child process, setNumThreads(1e6) no longer ends the process at the next matmul', {
    skip: !nativeAvailable && 'native backend unavailable',
  }, () => {
    // Before the ceiling, this child died inside OpenMP/oneDNN (SIGSEGV for 1e6; libgomp's
    // "Thread creation failed" exit for 50000) at the matmul, long after the call that asked.
    const code = `
      import * as st from ${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))};
      st.setBackend('native');
      try { st.setNumThreads(1e6); console.log('accepted'); } catch (e) { console.log('refused ' + e.constructor.name); }
      const a = st.ones([256, 256]);
      console.log('matmul ' + st.matmul(a, a).dataSync()[0]);
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(child.signal, null, `the child was killed by ${child.signal}; stderr: ${child.stderr.slice(-500)}`);
    assert.equal(child.status, 0, `the child exited with ${child.status}; stderr: ${child.stderr.slice(-500)}`);
    assert.match(child.stdout, /refused ValueError/);
    assert.match(child.stdout, /matmul 256/);
  });
});

for (const backend of BACKENDS) {
  describe(`int32 creation refuses what int32 cannot hold (${backend})`, () => {
    const on = (f: () => void) => () => withBackend(backend, f);

    it(
      'st.tensor from nested arrays names the value and its index',
      on(() => {
        throwsWith(
          () => st.tensor([3e9], [1], 'int32'),
          st.DtypeError,
          /^tensor: value at index \[0\] does not fit in int32/,
          RANGE,
          /received 3000000000/,
        );
        throwsWith(
          () =>
            st.tensor(
              [
                [1, 2],
                [-3e9, 4],
              ],
              undefined,
              'int32',
            ),
          st.DtypeError,
          /index \[1, 0\]/,
          /received -3000000000/,
        );
        throwsWith(() => st.tensor([0, NaN], [2], 'int32'), st.DtypeError, /index \[1\]/, /received NaN/);
        throwsWith(() => st.tensor([Infinity], [1], 'int32'), st.DtypeError, /received Infinity/);
        throwsWith(() => st.tensor([2147483648], [1], 'int32'), st.DtypeError, /received 2147483648/);
      }),
    );

    it(
      'st.tensor from a Float32Array or Float64Array given dtype int32',
      on(() => {
        throwsWith(() => st.tensor(new Float64Array([1, 2, 3e9]), [3], 'int32'), st.DtypeError, /index \[2\]/, /received 3000000000/, RANGE);
        throwsWith(() => st.tensor(new Float32Array([1, -Infinity]), [1, 2], 'int32'), st.DtypeError, /index \[0, 1\]/, /received -Infinity/);
      }),
    );

    it(
      'st.full, st.arange, scalar operands and pad constants',
      on(() => {
        throwsWith(() => st.full([2], 3e9, 'int32'), st.DtypeError, /^full: value does not fit in int32/, /received 3000000000/);
        throwsWith(() => st.full([2], NaN, 'int32'), st.DtypeError, /received NaN/);
        throwsWith(() => st.arange(2e9, 3e9, 5e8, 'int32'), st.DtypeError, /index \[1\]/, /received 2500000000/);
        // A plain number next to an int32 tensor takes its dtype (NumPy 2's rule), so it must fit.
        throwsWith(() => st.add(st.tensor([1], [1], 'int32'), 3e9), st.DtypeError, /^add: value does not fit in int32/, /received 3000000000/);
        throwsWith(() => st.pad(st.tensor([1], [1], 'int32'), [[1, 0]], 2 ** 32), st.DtypeError, /^pad:/, /received 4294967296/);
      }),
    );

    it(
      'values at the edges of the range are kept, and fractions truncate toward zero as in NumPy',
      on(() => {
        assert.deepEqual(values(st.tensor([2147483647, -2147483648, 2.7, -2.7], [4], 'int32')), [2147483647, -2147483648, 2, -2]);
        assert.deepEqual(values(st.full([1], -2147483648, 'int32')), [-2147483648]);
      }),
    );

    it(
      'bool creation treats NaN as true, as st.cast and NumPy do',
      on(() => {
        assert.deepEqual(values(st.tensor([NaN, 0, -0, 2], [4], 'bool')), [1, 0, 0, 1]);
        assert.deepEqual(values(st.full([1], NaN, 'bool')), [1]);
        assert.deepEqual(values(st.cast(st.tensor([NaN, 0]), 'bool')), [1, 0]);
      }),
    );
  });

  describe(`st.cast to int32 refuses values out of range (${backend})`, () => {
    it('out of range, NaN and ±Infinity are DtypeErrors naming the index; the backends agree', () =>
      withBackend(backend, () => {
        const x = st.tensor([
          [1, 2],
          [3e9, 4],
        ]);
        throwsWith(() => st.cast(x, 'int32'), st.DtypeError, /^cast: value at index \[1, 0\] does not fit in int32/, RANGE, /received 3000000000/);
        throwsWith(() => st.cast(st.tensor([NaN]), 'int32'), st.DtypeError, /received NaN/);
        throwsWith(() => st.cast(st.tensor([0, -Infinity]), 'int32'), st.DtypeError, /index \[1\]/, /received -Infinity/);
        assert.deepEqual(values(st.cast(st.tensor([2.7, -2.7, 2147483520, -2147483648]), 'int32')), [2, -2, 2147483520, -2147483648]);
      }));
  });

  describe(`int32 reductions are exact or refused (${backend})`, () => {
    const on = (f: () => void) => () => withBackend(backend, f);
    const OVERFLOW = [st.DtypeError, /overflows/, RANGE, /float32/] as const;

    it(
      'sum: in range is exact, out of range is a DtypeError suggesting float32',
      on(() => {
        const big = st.tensor([2147483647, 2000000000, -2147483648], [3], 'int32');
        assert.equal(st.sum(big).item(), 1999999999);
        throwsWith(
          () => st.sum(st.tensor([2e9, 2e9], [2], 'int32')),
          ...OVERFLOW,
          /^sum: the int32 result at index \[0\] overflows/,
          /received 4000000000/,
          /st\.cast/,
        );
        throwsWith(() => st.sum(st.tensor([-2e9, -2e9], [2], 'int32')), ...OVERFLOW, /received -4000000000/);
        // Along an axis, the message names the output slot that overflowed.
        const m = st.tensor(
          [
            [1, 2e9],
            [2, 2e9],
          ],
          [2, 2],
          'int32',
        );
        throwsWith(() => st.sum(m, 0), ...OVERFLOW, /index \[1\]/);
        assert.deepEqual(values(st.sum(m, 1)), [2000000001, 2000000002]);
        assert.equal(st.sum(st.cast(m, 'float32')).item(), Math.fround(4000000003), 'the suggested way out works');
      }),
    );

    it(
      'sum stays exact past 2^53 partial sums (2^24 values near 2^31 that cancel)',
      on(() => {
        // 2^23 * (2^31 - 1) - 2^23 * (2^31 - 2) = 2^23; summed in float64 the partial sums pass
        // 2^53 and the result comes out as 12582912.
        const half = 1 << 23;
        const data = new Int32Array(2 * half);
        data.fill(2147483647, 0, half);
        data.fill(-2147483646, half);
        assert.equal(st.sum(st.tensor(data, [data.length], 'int32')).item(), half);
      }),
    );

    it(
      'bool sums count as int32 and mean casts to float first, so neither overflows',
      on(() => {
        assert.equal(st.sum(st.tensor([true, true, false])).item(), 2);
        assert.equal(st.mean(st.tensor([2e9, 2e9], [2], 'int32')).item(), 2e9);
      }),
    );

    it(
      'prod: overflow is refused; a zero factor after an overflow still gives 0',
      on(() => {
        throwsWith(() => st.prod(st.tensor([65536, 65536], [2], 'int32')), ...OVERFLOW, /^prod:/, /received 4294967296/);
        assert.equal(st.prod(st.tensor([65536, 65536, 0], [3], 'int32')).item(), 0);
        const huge = new Int32Array(40).fill(2147483647);
        assert.equal(st.prod(st.tensor([...huge, 0], [41], 'int32')).item(), 0, 'Infinity * 0 is not NaN here');
        assert.equal(st.prod(st.tensor([-46341, 46340], [2], 'int32')).item(), -46341 * 46340);
      }),
    );

    it(
      'max and min of extreme values are exact',
      on(() => {
        const x = st.tensor([2147483647, -2147483648], [2], 'int32');
        assert.equal(st.max(x).item(), 2147483647);
        assert.equal(st.min(x).item(), -2147483648);
      }),
    );
  });

  describe(`int32 elementwise arithmetic wraps modulo 2^32, the same on every backend (${backend})`, () => {
    it('add, sub, mul, neg and abs wrap as NumPy and PyTorch do (Note [int32 holds what it is given, or refuses])', () =>
      withBackend(backend, () => {
        const big = st.tensor([2147483647, 2000000000, -2147483648], [3], 'int32');
        assert.deepEqual(values(st.add(big, big)), [-2, -294967296, 0]);
        assert.deepEqual(values(st.sub(st.neg(big), 5)), [2147483644, -2000000005, 2147483643]);
        assert.deepEqual(values(st.mul(big, 3)), [2147483645, 1705032704, -2147483648]);
        // 123456789 * 987654321 needs 57 bits: a float64 product would lose the low bits.
        const a = st.tensor([123456789], [1], 'int32'),
          b = st.tensor([987654321], [1], 'int32');
        assert.deepEqual(values(st.mul(a, b)), [Math.imul(123456789, 987654321)]);
        assert.deepEqual(values(st.neg(st.tensor([-2147483648], [1], 'int32'))), [-2147483648]);
        assert.deepEqual(values(st.abs(st.tensor([-2147483648], [1], 'int32'))), [-2147483648]);
      }));
  });
}

describe('messages show NaN and Infinity as they are, not as null', () => {
  const model = () => {
    const m = st.sequential({ layers: [st.layers.dense({ units: 1, inputShape: [1] })] });
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    return m;
  };
  const x = st.tensor([[0], [1]]),
    y = st.tensor([[0], [1]]);

  it('fit with epochs: NaN, Infinity, batchSize: NaN, validationSplit: NaN', async () => {
    await rejectsWith(
      () => model().fit(x, y, { epochs: NaN, verbose: 0 }),
      st.ValueError,
      /^fit: epochs must be a non-negative integer; received NaN$/,
    );
    await rejectsWith(() => model().fit(x, y, { epochs: Infinity, verbose: 0 }), st.ValueError, /epochs/, /received Infinity$/);
    await rejectsWith(() => model().fit(x, y, { batchSize: NaN, verbose: 0 }), st.ValueError, /batchSize must be a positive integer; received NaN$/);
    await rejectsWith(() => model().fit(x, y, { validationSplit: NaN, verbose: 0 }), st.ValueError, /validationSplit/, /received NaN$/);
  });

  it('learning-rate schedules given NaN, and a schedule that returns NaN during fit', async () => {
    throwsWith(
      () => st.schedules.exponentialDecay({ initialLearningRate: NaN, decaySteps: 10, decayRate: 0.5 }),
      st.ValueError,
      /^exponentialDecay: initialLearningRate must be a positive number; received NaN$/,
    );
    throwsWith(
      () => st.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: Infinity, decayRate: 0.5 }),
      st.ValueError,
      /decaySteps/,
      /received Infinity$/,
    );
    throwsWith(() => st.schedules.cosineDecay({ initialLearningRate: NaN, decaySteps: 10 }), st.ValueError, /received NaN$/);
    throwsWith(() => st.optimizers.sgd({ learningRate: NaN }), st.ValueError, /learningRate/, /received NaN$/);
    for (const backend of BACKENDS) {
      await withBackendAsync(backend, async () => {
        const m = st.sequential({ layers: [st.layers.dense({ units: 1, inputShape: [1] })] });
        m.compile({ optimizer: st.optimizers.sgd({ learningRate: () => NaN }), loss: 'mse' });
        await rejectsWith(
          () => m.fit(x, y, { epochs: 1, verbose: 0 }),
          st.ValueError,
          /learning rate must be a finite number >= 0; at step 0 it is NaN$/,
        );
      });
    }
  });

  it('other numeric options: layer rates, axes, shapes', () => {
    throwsWith(() => st.layers.dropout({ rate: NaN }), st.ValueError, /rate must be a number in \[0, 1\); received NaN$/);
    throwsWith(() => st.reshape(st.ones([2]), [NaN]), st.ShapeError, /received \[NaN\]/);
    throwsWith(() => st.sum(st.ones([2]), [NaN] as never), st.ValueError, /NaN/);
  });

  it('the formatting keeps JSON spelling for strings, arrays and objects', () => {
    throwsWith(() => st.conv2d(st.ones([1, 4, 4, 1]), st.ones([2, 2, 1, 1]), { padding: 'full' as never }), st.ValueError, /"full"/);
    throwsWith(() => st.pad(st.ones([2]), [[NaN, 1]]), st.ShapeError, /received \[\[NaN,1\]\]$/);
    throwsWith(() => st.layers.dense({ units: { n: NaN } as never }), st.ValueError, /received \{"n":NaN\}$/);
  });
});
