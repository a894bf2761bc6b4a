import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackendAsync } from './helpers.js';
import type { Dataset } from '../src/data/dataset.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and
// values are read with `await t.data()`, which every backend has.
await st.ready();
const available = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);

const values = async (t: st.Tensor) => Array.from(await t.data());
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** x row i is [i, 10 i + 1, 10 i + 2] plus a random offset; y row i is i. */
function rows(n: number, seed = 3) {
  const noise = randomValues(n * 3, seed, 0, 0.5);
  const xv = range(n * 3).map((k) => (k % 3 === 0 ? Math.floor(k / 3) : 10 * Math.floor(k / 3) + (k % 3)) + noise[k]);
  return { x: st.tensor(xv, [n, 3]), y: st.tensor(range(n), [n], 'int32'), xv };
}

/** A generator dataset of scalars 0..n-1 (the generic, non-array path). */
const counting = (n: number) =>
  st.data.fromGenerator(function* () {
    for (let i = 0; i < n; i++) yield st.tensor(i);
  });

async function scalars(ds: Dataset<st.Tensor>): Promise<number[]> {
  return (await ds.toArray()).map((t) => t.item());
}

for (const backend of available) {
  test(`fromArrays yields rows in order with their labels (${backend})`, () =>
    withBackendAsync(backend, async () => {
      const { x, y, xv } = rows(7);
      const ds = st.data.fromArrays(x, y);
      assert.equal(ds.size, 7);
      const elements = await ds.toArray();
      assert.equal(elements.length, 7);
      for (const [i, e] of elements.entries()) {
        assert.deepEqual(e.xs.shape, [3]);
        assert.deepEqual(e.ys.shape, []);
        assertClose(await values(e.xs), xv.slice(3 * i, 3 * i + 3));
        assert.equal((await e.ys.data())[0], i);
        assert.equal(e.ys.dtype, 'int32');
      }
      // Without y the element is the row itself; several arrays give arrays of rows.
      const lone = await st.data.fromArrays(x).toArray();
      assertClose(await values(lone[4]), xv.slice(12, 15));
      const multi = await st.data
        .fromArrays([x, st.mul(x, 2)], y)
        .take(2)
        .toArray();
      assertClose(
        await values(multi[1].xs[1]),
        xv.slice(3, 6).map((v) => 2 * v),
      );
    }));

  test(`batch stacks rows, with a remainder or without (${backend})`, () =>
    withBackendAsync(backend, async () => {
      const { x, y, xv } = rows(10);
      for (const [dropRemainder, sizes] of [
        [false, [4, 4, 2]],
        [true, [4, 4]],
      ] as const) {
        const ds = st.data.fromArrays(x, y).batch(4, { dropRemainder });
        assert.equal(ds.size, sizes.length);
        const batches = await ds.toArray();
        assert.deepEqual(
          batches.map((b) => b.xs.shape),
          sizes.map((n) => [n, 3]),
        );
        assert.deepEqual(
          batches.map((b) => b.ys.shape),
          sizes.map((n) => [n]),
        );
        for (const [k, b] of batches.entries()) {
          assertClose(await values(b.xs), xv.slice(12 * k, 12 * k + 3 * sizes[k]));
          assert.deepEqual(
            await values(b.ys),
            range(sizes[k]).map((i) => 4 * k + i),
          );
        }
      }
      // The generic path (after map) stacks element by element and must agree with the gather path.
      const generic = await st.data
        .fromArrays(x, y)
        .map((e) => ({ xs: e.xs, ys: e.ys }))
        .batch(4)
        .toArray();
      const fast = await st.data.fromArrays(x, y).batch(4).toArray();
      for (const [k, b] of generic.entries()) {
        assert.deepEqual(b.xs.shape, fast[k].xs.shape);
        assertClose(await values(b.xs), await values(fast[k].xs));
        assert.deepEqual(await values(b.ys), await values(fast[k].ys));
      }
    }));
}

test('map (sync and async), filter, take, skip and repeat match plain JS', async () => {
  const n = 9;
  assert.deepEqual(
    await scalars(counting(n).map((t) => t.mul(3))),
    range(n).map((i) => 3 * i),
  );
  assert.deepEqual(
    await scalars(
      counting(n).map(async (t) => {
        await sleep(1);
        return t.add(1);
      }),
    ),
    range(n).map((i) => i + 1),
  );
  assert.deepEqual(
    await scalars(counting(n).filter((t) => t.item() % 3 !== 1)),
    range(n).filter((i) => i % 3 !== 1),
  );
  assert.deepEqual(await scalars(counting(n).filter(async (t) => t.item() > 5)), [6, 7, 8]);
  assert.deepEqual(await scalars(counting(n).take(4)), [0, 1, 2, 3]);
  assert.deepEqual(await scalars(counting(n).take(0)), []);
  assert.deepEqual(await scalars(counting(n).skip(6)), [6, 7, 8]);
  assert.deepEqual(await scalars(counting(n).skip(20)), []);
  assert.deepEqual(await scalars(counting(3).repeat(3)), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
  assert.deepEqual(await scalars(counting(3).repeat().take(7)), [0, 1, 2, 0, 1, 2, 0]);
  assert.deepEqual(await scalars(counting(0).repeat()), [], 'an empty dataset repeated forever ends');
  // The same chains over arrays (the row-index path).
  const arr = st.data.fromArrays(st.arange(0, n));
  assert.deepEqual(await scalars(arr.skip(2).take(3)), [2, 3, 4]);
  assert.deepEqual(await scalars(arr.take(2).repeat(2)), [0, 1, 0, 1]);
  assert.deepEqual(await scalars(arr.take(2).repeat().skip(1).take(4)), [1, 0, 1, 0]);
  assert.deepEqual(await scalars(st.data.fromArrays(st.arange(0, 0)).repeat()), []);
  // Batching a repeated dataset crosses pass boundaries, as tf.data does.
  const crossing = await arr.take(3).repeat(2).batch(4).toArray();
  assert.deepEqual(await Promise.all(crossing.map(values)), [
    [0, 1, 2, 0],
    [1, 2],
  ]);
});

test('size is known from arrays and propagated, unknown after filter or from a generator', () => {
  const ds = st.data.fromArrays(st.zeros([10, 2]));
  assert.equal(ds.size, 10);
  assert.equal(ds.take(3).size, 3);
  assert.equal(ds.take(30).size, 10);
  assert.equal(ds.skip(3).size, 7);
  assert.equal(ds.skip(30).size, 0);
  assert.equal(ds.repeat(3).size, 30);
  assert.equal(ds.repeat().size, Infinity);
  assert.equal(ds.repeat().batch(3).size, Infinity);
  assert.equal(ds.batch(3).size, 4);
  assert.equal(ds.batch(3, { dropRemainder: true }).size, 3);
  assert.equal(
    ds
      .shuffle(4)
      .map((e) => e)
      .prefetch(2).size,
    10,
  );
  assert.equal(ds.filter(() => true).size, null);
  assert.equal(ds.filter(() => true).take(2).size, null);
  assert.equal(counting(3).size, null);
});

test('datasets are re-iterable: each pass starts over and calls the generator again', async () => {
  let calls = 0;
  const ds = st.data.fromGenerator(() => {
    calls++;
    return range(4)
      .map((i) => st.tensor(i))
      [Symbol.iterator]();
  });
  assert.deepEqual(await scalars(ds), [0, 1, 2, 3]);
  assert.deepEqual(await scalars(ds.take(2)), [0, 1]);
  assert.deepEqual(await scalars(ds), [0, 1, 2, 3]);
  assert.equal(calls, 3);
  // An async generator works too, and breaking out of a pass runs the generator's cleanup.
  let cleaned = 0;
  const asyncDs = st.data.fromGenerator(async function* () {
    try {
      for (let i = 0; ; i++) {
        await sleep(0);
        yield i;
      }
    } finally {
      cleaned++;
    }
  });
  const seen: number[] = [];
  for await (const v of asyncDs.prefetch(2)) {
    seen.push(v);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, [0, 1, 2]);
  assert.equal(cleaned, 1);
});

function isPermutation(order: number[], n: number): boolean {
  return order.length === n && [...order].sort((a, b) => a - b).every((v, i) => v === i);
}

test('shuffle is a seeded, reproducible permutation on both paths', async () => {
  const n = 50;
  const arrays = () => st.data.fromArrays(st.arange(0, n));
  for (const make of [arrays, () => counting(n)]) {
    const a = await scalars(make().shuffle(n, { seed: 7 }));
    const b = await scalars(make().shuffle(n, { seed: 7 }));
    const c = await scalars(make().shuffle(n, { seed: 8 }));
    assert.ok(isPermutation(a, n));
    assert.deepEqual(a, b, 'same seed, same order');
    assert.notDeepEqual(a, c, 'another seed, another order');
    assert.notDeepEqual(a, range(n));
    // Passes differ under reshuffleEachIteration (reproducibly), and repeat without it.
    const ds = make().shuffle(n, { seed: 7 });
    const pass1 = await scalars(ds),
      pass2 = await scalars(ds);
    assert.deepEqual(pass1, a);
    assert.notDeepEqual(pass2, pass1);
    assert.ok(isPermutation(pass2, n));
    const again = make().shuffle(n, { seed: 7 });
    await scalars(again);
    assert.deepEqual(await scalars(again), pass2);
    const fixed = make().shuffle(n, { seed: 7, reshuffleEachIteration: false });
    assert.deepEqual(await scalars(fixed), await scalars(fixed));
    // Without a seed, st.setSeed makes the global draws reproducible.
    st.setSeed(123);
    const g1 = await scalars(make().shuffle(n));
    st.setSeed(123);
    const g2 = await scalars(make().shuffle(n));
    assert.deepEqual(g1, g2);
    assert.ok(isPermutation(g1, n));
  }
  // Row-index and generic paths draw the same numbers, so they agree element for element.
  assert.deepEqual(await scalars(arrays().shuffle(10, { seed: 3 })), await scalars(counting(n).shuffle(10, { seed: 3 })));
});

test('shuffle with a small buffer only moves elements locally (tf.data buffer semantics)', async () => {
  const n = 40;
  assert.deepEqual(await scalars(counting(n).shuffle(1, { seed: 1 })), range(n), 'a buffer of one keeps the order');
  for (let seed = 0; seed < 20; seed++) {
    const order = await scalars(st.data.fromArrays(st.arange(0, n)).shuffle(4, { seed }));
    assert.ok(isPermutation(order, n));
    // Output k is drawn from a buffer holding only elements up to k + 3.
    order.forEach((v, k) => assert.ok(v <= k + 3, `seed ${seed}: element ${v} came out at position ${k}`));
  }
});

test('shuffle with a full buffer is uniform: every element leads about equally often', async () => {
  const n = 5,
    trials = 2000;
  for (const make of [() => st.data.fromArrays(st.arange(0, n)), () => counting(n)]) {
    const firsts = new Array(n).fill(0),
      positionsOf0 = new Array(n).fill(0);
    for (let seed = 0; seed < trials; seed++) {
      const order = await scalars(make().shuffle(n, { seed }));
      firsts[order[0]]++;
      positionsOf0[order.indexOf(0)]++;
    }
    // Expected 400 each; the binomial standard deviation is about 18, so ±90 is a 5-sigma band.
    for (const counts of [firsts, positionsOf0]) {
      for (const c of counts) assert.ok(Math.abs(c - trials / n) < 90, `counts ${counts.join(', ')}`);
    }
  }
});

test('prefetch overlaps producing the next element with consuming the current one', async () => {
  const events: string[] = [];
  const delay = 40,
    count = 6;
  const ds = st.data.fromGenerator(async function* () {
    for (let i = 0; i < count; i++) {
      events.push(`start ${i}`);
      await sleep(delay);
      yield i;
    }
  });
  const consume = async (d: Dataset<number>) => {
    const start = performance.now();
    const got: number[] = [];
    for await (const v of d) {
      await sleep(delay);
      events.push(`done ${v}`);
      got.push(v);
    }
    return { got, ms: performance.now() - start };
  };
  const plain = await consume(ds);
  const plainEvents = events.splice(0);
  const fetched = await consume(ds.prefetch(1));
  assert.deepEqual(plain.got, range(count));
  assert.deepEqual(fetched.got, range(count));
  // Without prefetch element k+1 starts only after k is consumed; with it, before.
  for (let k = 0; k + 1 < count; k++) {
    assert.ok(plainEvents.indexOf(`start ${k + 1}`) > plainEvents.indexOf(`done ${k}`));
    assert.ok(events.indexOf(`start ${k + 1}`) < events.indexOf(`done ${k}`), events.join(', '));
  }
  // Sequential costs about 2 * count * delay, overlapped about (count + 1) * delay.
  assert.ok(fetched.ms < 0.85 * plain.ms, `prefetch ${fetched.ms.toFixed(0)} ms vs plain ${plain.ms.toFixed(0)} ms`);
});

test('invalid calls fail at once with ValueError naming the option and value', async () => {
  const ds = st.data.fromArrays(st.zeros([4, 2]));
  assert.throws(() => ds.batch(0), { name: 'ValueError', message: 'batch: n must be a positive integer; received 0' });
  assert.throws(() => ds.batch(2.5), /batch: n must be a positive integer; received 2.5/);
  assert.throws(() => ds.batch(2, { drop: true } as never), /batch: unknown option 'drop'/);
  assert.throws(() => ds.shuffle(0), /shuffle: bufferSize must be a positive integer; received 0/);
  assert.throws(() => ds.shuffle(4, { seed: 1.5 }), /shuffle: seed must be an integer; received 1.5/);
  assert.throws(() => ds.shuffle(4, { reshuffle: true } as never), /shuffle: unknown option 'reshuffle'/);
  assert.throws(() => ds.take(-1), /take: n must be a non-negative integer; received -1/);
  assert.throws(() => ds.skip(NaN), /skip: n must be a non-negative integer; received NaN/);
  assert.throws(() => ds.repeat(-2), /repeat: count must be a non-negative integer; received -2/);
  assert.throws(() => ds.prefetch(0), /prefetch: bufferSize must be a positive integer; received 0/);
  assert.throws(() => ds.map(3 as never), /map: fn must be a function/);
  assert.throws(() => st.data.fromGenerator(null as never), /fromGenerator: fn must be a function/);
  assert.throws(() => st.data.fromArrays(st.zeros([4, 2]), st.zeros([3])), { name: 'ShapeError' });
  await assert.rejects(() => ds.repeat().toArray(), /toArray: the dataset is infinite/);
  // Elements of different shapes cannot be batched: the error names both shapes.
  const ragged = st.data.fromGenerator(function* () {
    yield st.zeros([2]);
    yield st.zeros([3]);
  });
  await assert.rejects(() => ragged.batch(2).toArray(), { name: 'ShapeError', message: /element 0 is \[2\], of element 1 is \[3\]/ });
});

test('batching structures: numbers, arrays and objects are stacked leaf by leaf', async () => {
  const ds = st.data.fromGenerator(function* () {
    for (let i = 0; i < 3; i++) yield { a: [st.tensor([i, -i]), i * 0.5], b: { c: st.tensor(i, [], 'int32') } };
  });
  const [batch] = await ds.batch(3).toArray();
  assert.deepEqual(batch.a[0].shape, [3, 2]);
  assert.deepEqual(await values(batch.a[0]), [0, -0, 1, -1, 2, -2]);
  assert.deepEqual(await values(batch.a[1]), [0, 0.5, 1]);
  assert.equal(batch.b.c.dtype, 'int32');
  assert.deepEqual(await values(batch.b.c), [0, 1, 2]);
});

test('MNIST through fromArrays → shuffle → batch(32): throughput', async (t) => {
  let x: st.Tensor,
    y: st.Tensor,
    source = 'MNIST';
  try {
    const m = await st.data.mnist();
    x = m.xTrain;
    y = m.yTrain;
  } catch {
    source = 'synthetic [60000, 28, 28, 1]';
    x = st.randomUniform([60000, 28, 28, 1], { seed: 1 });
    y = st.tensor(Int32Array.from(range(60000), (i) => i % 10));
  }
  const start = performance.now();
  let seen = 0,
    labelSum = 0;
  for await (const b of st.data.fromArrays(x, y).shuffle(60000, { seed: 1 }).batch(32)) {
    seen += b.xs.shape[0];
    if (seen === b.xs.shape[0]) assert.deepEqual(b.xs.shape, [32, 28, 28, 1]);
    labelSum += st.sum(b.ys).item();
  }
  const seconds = (performance.now() - start) / 1000;
  assert.equal(seen, 60000);
  assert.equal(labelSum, st.sum(y).item(), 'every label exactly once');
  t.diagnostic(`${source}: ${(seen / seconds).toFixed(0)} samples/s (${(seconds * 1000).toFixed(0)} ms per epoch of batches of 32)`);
});
