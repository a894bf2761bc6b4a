// st.distributed's collectives, checked inside an `mpirun -np 2` job (test/distributed.test.ts):
// every rank asserts what it received and exits non-zero on a mismatch.
//   node --import tsx test/distributed/collectives.ts [backend]
import assert from 'node:assert/strict';
import * as st from '../../src/index.js';

await st.setBackend(process.argv[2] ?? 'native');
const info = await st.distributed.init();
assert.equal(info.size, 2);
assert.equal(st.distributed.rank, info.rank);
assert.equal(st.distributed.initialized, true);
const r = info.rank;
const close = async (t: st.Tensor, want: number[]) => {
  const got = Array.from(await t.data());
  assert.equal(got.length, want.length);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `element ${i}: ${v} vs ${want[i]}`));
};

// Random values, the same on both ranks from one seed: the sum is computed here to compare.
st.setSeed(3);
const a = st.randomNormal([5, 3]);
const b = st.randomNormal([5, 3]);
const mine = r === 0 ? a : b;
const want = Array.from(await st.add(a, b).data());
const summed = await st.distributed.allreduce(mine);
await close(summed, want);
await close(mine, Array.from(await mine.data())); // not in place: the input is unchanged
await close(
  await st.distributed.allreduce(mine, { op: 'mean' }),
  want.map((v) => v / 2),
);
const copy = st.mul(mine, 1);
const same = await st.distributed.allreduce(copy, { inPlace: true });
assert.equal(same, copy);
await close(copy, want);

// Broadcast from rank 1, into a new tensor and in place.
const fromOne = await st.distributed.broadcast(mine, { root: 1 });
await close(fromOne, Array.from(await b.data()));
const target = st.mul(mine, 1);
await st.distributed.broadcast(target, { inPlace: true });
await close(target, Array.from(await a.data()));

// Allgather of plain numbers, rank by rank.
assert.deepEqual(await st.distributed.allgather([r, r * 10 + 0.5]), [
  [0, 0.5],
  [1, 10.5],
]);
await st.distributed.barrier();

// Bad input is refused before any message is sent (both ranks refuse alike, so nothing hangs).
await assert.rejects(
  st.distributed.allreduce(st.tensor([1, 2], [2], 'int32')),
  (e: Error) => e instanceof st.DtypeError && /float32/.test(e.message),
);
await assert.rejects(st.distributed.broadcast(a, { root: 2 }), /root must be a rank from 0 to 1; received 2/);
await assert.rejects(st.distributed.allreduce(a, { op: 'max' as 'sum' }), /op/);
await assert.rejects(st.distributed.init({ timeoutSeconds: -1 }), /timeoutSeconds must be a positive number/);
console.log(`rank ${r}: collectives ok`);
