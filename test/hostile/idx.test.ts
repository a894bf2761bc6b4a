// Hostile IDX files, generated here: gzip streams that inflate far past the ceiling or past what
// their header declares, and headers whose dimensions multiply past 2^53. Every one must be
// refused with a FormatError naming the file and the limit, before the body is inflated
// (Note [Trust no size] in src/core/limits.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as st from '../../src/index.js';
import { measureInChild } from './measure.js';

const root = mkdtempSync(join(tmpdir(), 'strata-hostile-idx-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const MiB = 1 << 20;
const UINT8 = 0x08;

function save(name: string, bytes: Uint8Array): string {
  const path = join(root, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

/** An IDX header: 0, 0, type, rank, then each dimension as a big-endian uint32. */
function idxHeader(type: number, shape: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length);
  out[2] = type;
  out[3] = shape.length;
  shape.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d, false));
  return out;
}

/**
 * A gzip file that inflates to `header` then `zeros` zero bytes, at about 1 KB per MiB: gzip
 * members may be concatenated, and one member of a MiB of zeros, repeated, costs nothing to make.
 */
function gzipWithZeros(header: Uint8Array, zeros: number): Uint8Array {
  const mib = gzipSync(Buffer.alloc(MiB));
  const parts: Uint8Array[] = [gzipSync(header)];
  for (let i = 0; i < Math.floor(zeros / MiB); i++) parts.push(mib);
  if (zeros % MiB) parts.push(gzipSync(Buffer.alloc(zeros % MiB)));
  return new Uint8Array(Buffer.concat(parts));
}

test('the generator makes what it claims', () => {
  const inflated = gunzipSync(gzipWithZeros(idxHeader(UINT8, [3 * MiB + 5]), 3 * MiB + 5));
  assert.equal(inflated.length, 8 + 3 * MiB + 5);
  assert.deepEqual(Array.from(inflated.subarray(0, 8)), [0, 0, 8, 1, 0, 0x30, 0, 5]);
});

/** Asserts that readIdx and readIdxSync both throw a FormatError whose message contains every fragment. */
async function refuses(path: string, fragments: string[]): Promise<void> {
  const check = (error: Error) => {
    assert.ok(error instanceof st.FormatError, `expected a FormatError; got ${error.name}: ${error.message}`);
    for (const fragment of [`'${path}'`, ...fragments]) assert.ok(error.message.includes(fragment), `message lacks '${fragment}': ${error.message}`);
    return true;
  };
  await assert.rejects(() => st.data.readIdx(path), check);
  assert.throws(() => st.data.readIdxSync(path), check);
}

async function withLimits(limits: Partial<st.ReadLimits>, body: () => Promise<void>): Promise<void> {
  const previous = st.setReadLimits(limits);
  try {
    await body();
  } finally {
    st.setReadLimits(previous);
  }
}

const RAISE = 'st.setReadLimits({ maxDecodedBytes';

test('a .gz whose header declares more than maxDecodedBytes is refused before its body is inflated', async () => {
  // 8 MiB of uint8 in 8 KB; it would become a 32 MiB int32 tensor.
  const path = save('big.idx.gz', gzipWithZeros(idxHeader(UINT8, [8, MiB]), 8 * MiB));
  await withLimits({ maxDecodedBytes: MiB }, async () => {
    await refuses(path, ['[8, 1048576]', 'uint8', 'maxDecodedBytes', String(MiB), RAISE]);
  });
  // The ceiling counts the tensor twice too (its array and the backend's copy): 72 MiB + 16 bytes.
  await withLimits({ maxDecodedBytes: 72 * MiB }, async () => {
    await refuses(path, ['maxDecodedBytes', String(72 * MiB)]);
  });
  await withLimits({ maxDecodedBytes: 72 * MiB + 16 }, async () => {
    assert.deepEqual(st.data.readIdxSync(path).shape, [8, MiB]);
  });
});

test('a .gz that inflates past the size its header declares is refused at that size', async () => {
  // The header says 16 bytes of data; 64 MiB of zeros follow.
  const path = save('trailing.idx.gz', gzipWithZeros(idxHeader(UINT8, [16]), 64 * MiB));
  await refuses(path, ['inflates past', '24 bytes', 'header', '[16]']);
});

test('dimensions whose product passes 2^53 are refused as such, with the exact product, raw or gzipped', async () => {
  const max = 2 ** 32 - 1;
  const shape = [max, max, max];
  const exact = (BigInt(max) ** 3n).toString();
  const header = idxHeader(UINT8, shape);
  for (const [name, bytes] of [
    ['overflow.idx', header],
    ['overflow.idx.gz', gzipSync(header)],
  ] as const) {
    await refuses(save(name, bytes), [`[${shape.join(', ')}]`, exact, '2^53']);
  }
  // Each dimension alone is fine; 2^27 * 2^27 = 2^54 elements is not.
  await refuses(save('overflow2.idx', idxHeader(UINT8, [2 ** 27, 2 ** 27])), [(2n ** 54n).toString(), '2^53']);
});

test('the mnist loaders allow their own files past the ceiling, but not larger ones, naming them', async () => {
  const folder = join(root, 'fashion');
  const file = (name: string, bytes: Uint8Array) => save(join('fashion', name), bytes);
  // 70,000 training images: more than MNIST's 60,000, whose size the loaders allow.
  const images = file('train-images-idx3-ubyte.gz', gzipWithZeros(idxHeader(UINT8, [70_000, 28, 28]), 70_000 * 28 * 28));
  file('train-labels-idx1-ubyte.gz', gzipSync(Buffer.concat([idxHeader(UINT8, [70_000]), Buffer.alloc(70_000)])));
  file('t10k-images-idx3-ubyte.gz', gzipSync(Buffer.concat([idxHeader(UINT8, [1, 28, 28]), Buffer.alloc(784)])));
  file('t10k-labels-idx1-ubyte.gz', gzipSync(Buffer.concat([idxHeader(UINT8, [1]), Buffer.alloc(1)])));
  await withLimits({ maxDecodedBytes: MiB }, async () => {
    await assert.rejects(
      () => st.data.fashionMnist({ path: folder }),
      (error: Error) => {
        assert.ok(error instanceof st.FormatError, `${error.name}: ${error.message}`);
        assert.ok(error.message.includes(`'${images}'`) && error.message.includes('maxDecodedBytes'), error.message);
        return true;
      },
    );
  });
});

test('reading a 300 KB .gz that declares 300 MiB of uint8 allocates almost nothing', () => {
  const bytes = gzipWithZeros(idxHeader(UINT8, [300 * MiB]), 300 * MiB);
  assert.ok(bytes.length < 400 * 1024, `${bytes.length} bytes`);
  const path = save('memory/huge.idx.gz', bytes);
  const { error, peakGrowth, rssGrowth, arrayBuffersGrowth } = measureInChild(`await st.data.readIdx(${JSON.stringify(path)})`);
  const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
  const report = `peak RSS +${mib(peakGrowth)}, RSS +${mib(rssGrowth)}, ArrayBuffers +${mib(arrayBuffersGrowth)}; error: ${JSON.stringify(error)}`;
  assert.equal(error?.name, 'FormatError', report);
  assert.ok(error!.message.includes(`'${path}'`) && error!.message.includes('maxDecodedBytes'), report);
  for (const growth of [peakGrowth, rssGrowth, arrayBuffersGrowth]) assert.ok(growth < 32 * MiB, report);
});
