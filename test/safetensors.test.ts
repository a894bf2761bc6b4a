// The safetensors reader/writer (src/io/safetensors.ts) and atomic writes (src/node/io/atomic-write.ts).
// Expected bytes are built here by hand from the format's definition; the mixed-dtype fixture is
// written by scripts/make_safetensors_fixture.py, an independent Python writer (Debian bookworm has
// no python3-safetensors), with its expected values stored in its own metadata.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { decodeSafetensors, encodeSafetensors, encodeSafetensorsAsync, type NamedTensor } from '../src/io/safetensors.js';
import { loadSafetensors, saveSafetensors } from '../src/node/io/safetensors-files.js';
import { writeFileAtomic, writeFileAtomicSync } from '../src/node/io/atomic-write.js';
import { randomValues, withBackend, withBackendAsync } from './helpers.js';

const FIXTURE = new URL('./fixtures/safetensors-mixed.safetensors', import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), 'strata-safetensors-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A safetensors file from a header text (padded with spaces to a multiple of 8) and data bytes. */
function fileFrom(header: string, data: ArrayLike<number> = []): Uint8Array {
  const json = new TextEncoder().encode(header);
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + data.length).fill(0x20, 8, 8 + n);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.set(data, 8 + n);
  return out;
}

/** Asserts `f` throws a FormatError starting with `file` and matching every pattern. */
function assertFormatError(f: () => unknown, file: string, ...patterns: RegExp[]): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof st.FormatError, `expected FormatError, got ${String(e)}`);
    assert.ok(e.message.startsWith(`${file}: `), `message should start with the file name: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

const ints = (n: number, seed: number) => randomValues(n, seed, -2e9, 2e9).map(Math.trunc);
const bools = (n: number, seed: number) => randomValues(n, seed).map((v) => (v > 0 ? 1 : 0));

/** Named tensors of every dtype the backend stores, with the flat values each must hold exactly. */
function sampleTensors(float64: boolean): { named: NamedTensor[]; expected: Map<string, { dtype: st.DType; shape: number[]; values: number[] }> } {
  const specs: [string, st.DType, number[], number[]][] = [
    ['dense/kernel', 'float32', [3, 5], randomValues(15, 1, -3, 3).map(Math.fround)],
    ['dense/bias', 'float32', [5], randomValues(5, 2).map(Math.fround)],
    ['0', 'int32', [7], ints(7, 3)], // an integer-like name must keep its place in the order
    ['mask', 'bool', [2, 3], bools(6, 4)],
    ['scalar', 'float32', [], [Math.fround(Math.PI)]],
    ['int scalar', 'int32', [], [-42]],
    ['empty', 'float32', [0], []],
    ['empty int', 'int32', [2, 0], []],
    ['flag', 'bool', [], [1]],
  ];
  if (float64) specs.push(['double', 'float64', [2, 2], [0.1, 1 / 3, 1e-300, -2.5e300]]);
  const expected = new Map(specs.map(([name, dtype, shape, values]) => [name, { dtype, shape, values }]));
  const named = specs.map(([name, dtype, shape, values]) => ({ name, tensor: st.tensor(values, shape, dtype) }));
  return { named, expected };
}

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and the
// per-backend cases read with `await t.data()`, which every backend has.
await st.ready();

for (const backend of st.backends()) {
  describe(`safetensors round trip on the ${backend.name} backend`, { skip: backend.available ? false : `unavailable: ${backend.reason}` }, () => {
    it('decodes exactly what was encoded, in order, with metadata, onto the current backend', () =>
      withBackendAsync(backend.name, async () => {
        const float64 = st.getBackend().supportsDtype('float64');
        const { named, expected } = sampleTensors(float64);
        const metadata = { format: 'strata', epoch: '3', '': 'empty key', ünïcødé: '✓' };
        // encodeSafetensorsAsync reads webgpu's tensors with await t.data(); where reads are
        // synchronous, encodeSafetensors must give the same bytes.
        const bytes = await encodeSafetensorsAsync(named, metadata);
        assert.deepEqual(await encodeSafetensorsAsync(named, metadata), bytes, 'encoding is deterministic');
        if (st.getBackend().readSync !== false) assert.deepEqual(encodeSafetensors(named, metadata), bytes, 'encodeSafetensors gives the same bytes');
        const decoded = decodeSafetensors(bytes, 'round-trip.safetensors');
        assert.deepEqual(
          decoded.order,
          named.map((n) => n.name),
        );
        assert.deepEqual(decoded.metadata, metadata);
        assert.equal(decoded.tensors.size, expected.size);
        for (const [name, want] of expected) {
          const t = decoded.tensors.get(name)!;
          assert.equal(t.backend.name, backend.name, name);
          assert.equal(t.dtype, want.dtype, name);
          assert.deepEqual([...t.shape], want.shape, name);
          assert.deepEqual(Array.from(await t.data()), want.values, name);
        }
      }));

    it('copies the data: later changes to the bytes do not reach the tensors; unaligned input works', () =>
      withBackendAsync(backend.name, async () => {
        const values = randomValues(9, 7).map(Math.fround);
        const bytes = await encodeSafetensorsAsync([{ name: 'w', tensor: st.tensor(values, [3, 3]) }]);
        const shifted = new Uint8Array(bytes.length + 1).subarray(1); // byteOffset 1: no view is aligned
        shifted.set(bytes);
        const buffer = Buffer.from(bytes); // what readFile returns: its slice() is a view
        const fromShifted = decodeSafetensors(shifted, 'shifted.safetensors').tensors.get('w')!;
        const fromBuffer = decodeSafetensors(buffer, 'buffer.safetensors').tensors.get('w')!;
        shifted.fill(0);
        buffer.fill(0);
        assert.deepEqual(Array.from(await fromShifted.data()), values);
        assert.deepEqual(Array.from(await fromBuffer.data()), values);
      }));

    it('reads the independently written mixed-dtype fixture exactly', () =>
      withBackendAsync(backend.name, async () => {
        const decoded = decodeSafetensors(readFileSync(FIXTURE), 'safetensors-mixed.safetensors');
        const expected = JSON.parse(decoded.metadata.expected) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
        assert.equal(decoded.metadata.format, 'pt');
        assert.deepEqual(decoded.order, JSON.parse(decoded.metadata.order));
        const float64 = st.getBackend().supportsDtype('float64');
        const strataDtype: Record<string, st.DType> = {
          F32: 'float32',
          F64: float64 ? 'float64' : 'float32',
          I32: 'int32',
          BOOL: 'bool',
          U8: 'int32',
          I8: 'int32',
          U16: 'int32',
          I16: 'int32',
        };
        assert.equal(decoded.tensors.size, Object.keys(expected).length);
        for (const [name, want] of Object.entries(expected)) {
          const t = decoded.tensors.get(name)!;
          assert.equal(t.dtype, strataDtype[want.dtype], name);
          assert.deepEqual([...t.shape], want.shape, name);
          // F64 on a float32-only backend is rounded to float32 (documented in readValues).
          const values = want.dtype === 'F64' && !float64 ? want.values.map(Math.fround) : want.values;
          assert.deepEqual(Array.from(await t.data()), values, name);
        }
      }));
  });
}

describe('safetensors byte layout', () => {
  it('matches a file built by hand: length field, JSON header, padding, little-endian data', () => {
    const bytes = encodeSafetensors(
      [
        { name: 'a', tensor: st.tensor([1.5, -2], [2]) },
        { name: 'b', tensor: st.tensor(7, [], 'int32') },
        { name: 'c', tensor: st.tensor([true, false, true]) },
      ],
      { k: 'v' },
    );
    const json =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[],"data_offsets":[8,12]},' +
      '"c":{"dtype":"BOOL","shape":[3],"data_offsets":[12,15]},"__metadata__":{"k":"v"}}';
    const n = Math.ceil(json.length / 8) * 8;
    assert.equal((8 + n) % 8, 0);
    assert.deepEqual([...bytes.subarray(0, 8)], [n & 0xff, n >> 8, 0, 0, 0, 0, 0, 0]);
    assert.equal(new TextDecoder().decode(bytes.subarray(8, 8 + n)), json + ' '.repeat(n - json.length));
    const data = [
      0x00,
      0x00,
      0xc0,
      0x3f, // 1.5f = 0x3fc00000
      0x00,
      0x00,
      0x00,
      0xc0, // -2f = 0xc0000000
      0x07,
      0x00,
      0x00,
      0x00, // int32 7
      0x01,
      0x00,
      0x01, // bools
    ];
    assert.deepEqual([...bytes.subarray(8 + n)], data);
    assert.equal(bytes.length, 8 + n + data.length);
  });

  it('writes no metadata entry when none is given and pads even an empty file to 8 bytes', () => {
    const bytes = encodeSafetensors([]);
    assert.deepEqual([...bytes], [8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20]);
    assert.deepEqual(decodeSafetensors(bytes, 'e'), { tensors: new Map(), metadata: {}, order: [] });
  });

  it('stores float64 as F64 and loads it as float32 on a backend without float64', async (t) => {
    if (!st.backends().some((b) => b.name === 'reference' && b.available)) return t.skip('no reference backend');
    const values = [0.1, 1 / 3, -7.25];
    const bytes = withBackend('reference', () => encodeSafetensors([{ name: 'd', tensor: st.tensor(values, [3], 'float64') }]));
    const view = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 24);
    assert.deepEqual(
      [0, 1, 2].map((i) => view.getFloat64(8 * i, true)),
      values,
    );
    for (const b of st.backends().filter((x) => x.available)) {
      await withBackendAsync(b.name, async () => {
        const d = decodeSafetensors(bytes, 'f64').tensors.get('d')!;
        const float64 = st.getBackend().supportsDtype('float64');
        assert.equal(d.dtype, float64 ? 'float64' : 'float32', b.name);
        assert.deepEqual(Array.from(await d.data()), float64 ? values : values.map(Math.fround), b.name);
      });
    }
  });
});

describe('safetensors decode rejects malformed files with a FormatError naming the file', () => {
  const good = encodeSafetensors(
    [
      { name: 'w', tensor: st.tensor(randomValues(24, 5), [4, 6]) },
      { name: 'i', tensor: st.tensor(ints(10, 6), [10], 'int32') },
      { name: 'm', tensor: st.tensor(bools(5, 7), [5], 'bool') },
    ],
    { note: 'x' },
  );

  it('a file truncated at every 10 % point, and to 0, 4 and 8 bytes', () => {
    const lengths = [0, 4, 8, ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => Math.floor((good.length * k) / 10))];
    for (const length of lengths) {
      assertFormatError(() => decodeSafetensors(good.subarray(0, length), 'cut.safetensors'), 'cut.safetensors', /truncated/);
    }
    assert.equal(decodeSafetensors(good, 'whole').order.length, 3);
  });

  it('loadSafetensors names the path of a truncated file', async () => {
    const path = join(scratch, 'truncated.safetensors');
    writeFileSync(path, good.subarray(0, good.length - 3));
    await assert.rejects(
      loadSafetensors(path),
      (e: Error) => e instanceof st.FormatError && e.message.startsWith(`${path}: `) && /truncated/.test(e.message),
    );
  });

  it('header length absurd, not UTF-8, not JSON, not an object', () => {
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    assertFormatError(() => decodeSafetensors(huge, 'f'), 'f', /at most 100000000/, /1099511627776/);
    const notUtf8 = fileFrom('{"a":1}');
    notUtf8[10] = 0xff;
    assertFormatError(() => decodeSafetensors(notUtf8, 'f'), 'f', /UTF-8/);
    assertFormatError(
      () => decodeSafetensors(fileFrom('{"w": {"dtype": "F32", '), 'f'),
      'f',
      /not valid JSON \(.*position 24\)/,
      /received "\{\\"w\\": \{/,
    );
    assertFormatError(() => decodeSafetensors(fileFrom('[1, 2]'), 'f'), 'f', /must be a JSON object/, /received an array/);
    assertFormatError(() => decodeSafetensors(fileFrom('null'), 'f'), 'f', /must be a JSON object/, /received null/);
  });

  it('entries with missing or mistyped fields', () => {
    const cases: [string, RegExp][] = [
      ['{"w": 3}', /tensor "w": expected an object/],
      ['{"w": {"shape": [1], "data_offsets": [0, 4]}}', /tensor "w": missing "dtype"/],
      ['{"w": {"dtype": "F32", "data_offsets": [0, 4]}}', /missing "shape"/],
      ['{"w": {"dtype": "F32", "shape": [1]}}', /missing "data_offsets"/],
      ['{"w": {"dtype": 4, "shape": [1], "data_offsets": [0, 4]}}', /dtype must be a string; received number 4/],
      ['{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}', /shape must be an array of non-negative integers; received an array \[-1\]/],
      ['{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}', /shape must be/],
      ['{"w": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}}', /shape must be/],
      ['{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}', /data_offsets must be \[begin, end\]/],
      ['{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}', /data_offsets must be/],
      ['{"": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', /names must be non-empty/],
      ['{"__metadata__": {"a": 1}}', /"__metadata__" must map strings to strings; received number 1 for key "a"/],
      ['{"__metadata__": ["a"]}', /"__metadata__" must be an object/],
    ];
    for (const [header, pattern] of cases) assertFormatError(() => decodeSafetensors(fileFrom(header, [0, 0, 0, 0]), 'bad.st'), 'bad.st', pattern);
  });

  it('unknown and unloadable dtypes name the tensor and the dtype', () => {
    assertFormatError(
      () => decodeSafetensors(fileFrom('{"w": {"dtype": "X32", "shape": [1], "data_offsets": [0, 4]}}', [0, 0, 0, 0]), 'f'),
      'f',
      /tensor "w": unknown dtype "X32"; expected one of .*F32/,
    );
    for (const [dtype, size] of [
      ['F16', 2],
      ['BF16', 2],
      ['I64', 8],
      ['U32', 4],
      ['F8_E4M3', 1],
    ] as const) {
      const header = `{"ok": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}, "h": {"dtype": "${dtype}", "shape": [2], "data_offsets": [4, ${4 + 2 * size}]}}`;
      assertFormatError(
        () => decodeSafetensors(fileFrom(header, new Uint8Array(4 + 2 * size)), 'f'),
        'f',
        new RegExp(`tensor "h" has dtype ${dtype}, which Strata cannot load; expected one of F32, F64, I32, BOOL`),
      );
    }
  });

  it('byte length not matching dtype and shape', () => {
    const header = '{"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}';
    assertFormatError(
      () => decodeSafetensors(fileFrom(header, new Uint8Array(20)), 'f'),
      'f',
      /tensor "w": dtype F32 and shape \[2, 3\] need 24 bytes, but data_offsets \[0, 20\] span 20/,
    );
  });

  // Each size or offset check, tried on both sides of its boundary: the value it must accept
  // (the file decodes) and the values just past it on either side (a FormatError saying which
  // check failed), so an off-by-one or a one-sided comparison in any of them fails here.
  it('every size and offset check, on both sides of its boundary', () => {
    const f32 = (shape: number[], begin: number, end: number) =>
      `{"w": {"dtype": "F32", "shape": ${JSON.stringify(shape)}, "data_offsets": [${begin}, ${end}]}}`;
    // The span must equal product(shape) * itemsize exactly: shorter and longer are both refused.
    assert.equal(decodeSafetensors(fileFrom(f32([2, 3], 0, 24), new Uint8Array(24)), 'f').order.length, 1);
    for (const end of [20, 23, 25, 28]) {
      assertFormatError(
        () => decodeSafetensors(fileFrom(f32([2, 3], 0, end), new Uint8Array(end)), 'f'),
        'f',
        new RegExp(`need 24 bytes, but data_offsets \\[0, ${end}\\] span ${end}`),
      );
    }
    // A zero-size tensor spans 0 bytes, and only 0.
    assert.equal(decodeSafetensors(fileFrom(f32([0, 3], 0, 0)), 'f').tensors.get('w')!.size, 0);
    assertFormatError(() => decodeSafetensors(fileFrom(f32([0, 3], 0, 4), new Uint8Array(4)), 'f'), 'f', /need 0 bytes/);
    // The last tensor must end exactly at the end of the data section: one byte short of it is
    // a truncated file, one byte beyond is a trailing byte.
    assertFormatError(() => decodeSafetensors(fileFrom(f32([2, 3], 0, 24), new Uint8Array(23)), 'f'), 'f', /ends at byte 24 .* only 23 data bytes/);
    assertFormatError(
      () => decodeSafetensors(fileFrom(f32([2, 3], 0, 24), new Uint8Array(25)), 'f'),
      'f',
      /holds 25 bytes but the tensors cover only 24/,
    );
    // Consecutive tensors must meet exactly: one byte apart is a gap, one byte into the previous an overlap.
    const two = (second: number) =>
      `{"a": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "I32", "shape": [1], "data_offsets": [${second}, ${second + 4}]}}`;
    assert.deepEqual(decodeSafetensors(fileFrom(two(8), new Uint8Array(12)), 'f').order, ['a', 'b']);
    assertFormatError(() => decodeSafetensors(fileFrom(two(9), new Uint8Array(13)), 'f'), 'f', /bytes \[8, 9\) .*\(gap before "b"\)/);
    assertFormatError(
      () => decodeSafetensors(fileFrom(two(7), new Uint8Array(11)), 'f'),
      'f',
      /"a" \(bytes \[0, 8\)\) and "b" \(bytes \[7, 11\)\) overlap/,
    );
    // The header length: the header may end exactly at the end of the file (no data), not one byte later.
    const exact = fileFrom('{}');
    assert.equal(decodeSafetensors(exact, 'f').order.length, 0);
    const over = exact.slice();
    new DataView(over.buffer).setBigUint64(0, BigInt(over.length - 8 + 1), true);
    assertFormatError(() => decodeSafetensors(over, 'f'), 'f', /only 8 bytes follow the length field \(file truncated\)/);
    // The header-length ceiling: 100,000,000 itself passes that check (and is then truncated here),
    // 100,000,001 is refused by it.
    const atCeiling = exact.slice();
    new DataView(atCeiling.buffer).setBigUint64(0, 100_000_000n, true);
    assertFormatError(() => decodeSafetensors(atCeiling, 'f'), 'f', /header length is 100000000 bytes, but only 8 bytes follow/);
    new DataView(atCeiling.buffer).setBigUint64(0, 100_000_001n, true);
    assertFormatError(() => decodeSafetensors(atCeiling, 'f'), 'f', /at most 100000000 bytes; received 100000001/);
    // Offsets must be ordered integers: begin == end is a valid empty span, begin > end is not.
    assertFormatError(() => decodeSafetensors(fileFrom(f32([1], 4, 3), new Uint8Array(4)), 'f'), 'f', /data_offsets must be \[begin, end\]/);
    assertFormatError(() => decodeSafetensors(fileFrom(f32([1], 0, 4.5), new Uint8Array(4)), 'f'), 'f', /data_offsets must be \[begin, end\]/);
  });

  it('overlapping offsets, gaps and trailing bytes in the data section', () => {
    const entry = (name: string, begin: number) => `"${name}": {"dtype": "I32", "shape": [2], "data_offsets": [${begin}, ${begin + 8}]}`;
    assertFormatError(
      () => decodeSafetensors(fileFrom(`{${entry('b', 4)}, ${entry('a', 0)}}`, new Uint8Array(12)), 'f'),
      'f',
      /tensors "a" \(bytes \[0, 8\)\) and "b" \(bytes \[4, 12\)\) overlap/,
    );
    assertFormatError(
      () => decodeSafetensors(fileFrom(`{${entry('a', 0)}, ${entry('b', 12)}}`, new Uint8Array(20)), 'f'),
      'f',
      /bytes \[8, 12\) of the data section belong to no tensor \(gap before "b"\)/,
    );
    assertFormatError(() => decodeSafetensors(fileFrom(`{${entry('a', 4)}}`, new Uint8Array(12)), 'f'), 'f', /bytes \[0, 4\).*gap before "a"/);
    assertFormatError(
      () => decodeSafetensors(fileFrom(`{${entry('a', 0)}}`, new Uint8Array(10)), 'f'),
      'f',
      /holds 10 bytes but the tensors cover only 8; expected no trailing bytes/,
    );
  });

  it('never lets a header key reach an object prototype', () => {
    const header = '{"__proto__": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "__metadata__": {"__proto__": "p", "toString": "t"}}';
    const decoded = decodeSafetensors(fileFrom(header, [9]), 'f');
    assert.deepEqual(decoded.order, ['__proto__']);
    assert.deepEqual(Array.from(decoded.tensors.get('__proto__')!.dataSync()), [9]);
    assert.deepEqual(Object.entries(decoded.metadata), [
      ['__proto__', 'p'],
      ['toString', 't'],
    ]);
    assert.equal(Object.getPrototypeOf(decoded.metadata), Object.prototype);
    assertFormatError(
      () => decodeSafetensors(fileFrom('{"w": {"dtype": "toString", "shape": [1], "data_offsets": [0, 1]}}', [0]), 'f'),
      'f',
      /unknown dtype "toString"/,
    );
  });
});

describe('safetensors encode rejects bad arguments with a ValueError', () => {
  const t = st.tensor([1, 2]);
  for (const [what, args, pattern] of [
    [
      'duplicate names',
      [
        { name: 'a', tensor: t },
        { name: 'a', tensor: t },
      ],
      /duplicate tensor name "a" \(entry 1\)/,
    ],
    ['an empty name', [{ name: '', tensor: t }], /entry 0: name must be a non-empty string/],
    ['a non-string name', [{ name: 3, tensor: t }], /name must be a non-empty string; received number 3/],
    ['the reserved name', [{ name: '__metadata__', tensor: t }], /reserved/],
    ['a non-tensor', [{ name: 'a', tensor: [1, 2] }], /entry 0 \("a"\): tensor must be a Tensor; received an array/],
  ] as [string, unknown, RegExp][]) {
    it(what, () =>
      assert.throws(
        () => encodeSafetensors(args as NamedTensor[]),
        (e: Error) => e instanceof st.ValueError && pattern.test(e.message),
      ),
    );
  }
  it('non-string metadata values and metadata that is not a plain object', () => {
    assert.throws(
      () => encodeSafetensors([], { epoch: 3n } as unknown as Record<string, string>),
      (e: Error) => e instanceof st.ValueError && /received bigint 3 for key "epoch"/.test(e.message),
    );
    assert.throws(
      () => encodeSafetensors([], new Map([['a', 'b']]) as unknown as Record<string, string>),
      (e: Error) => e instanceof st.ValueError && /metadata must be an object of strings; received a Map/.test(e.message),
    );
  });
});

describe('saveSafetensors / loadSafetensors', () => {
  it('round-trip through a file atomically, leaving no temporary file', async () => {
    const dir = join(scratch, 'save');
    mkdirSync(dir);
    const path = join(dir, 'weights.safetensors');
    const { named, expected } = sampleTensors(false);
    await saveSafetensors(path, named, { a: 'b' });
    await saveSafetensors(path, named.slice(0, 2)); // replaces the previous file whole
    assert.deepEqual(readdirSync(dir), ['weights.safetensors']);
    const loaded = await loadSafetensors(path);
    assert.deepEqual(loaded.order, ['dense/kernel', 'dense/bias']);
    assert.deepEqual(loaded.metadata, {});
    assert.deepEqual(Array.from(loaded.tensors.get('dense/kernel')!.dataSync()), expected.get('dense/kernel')!.values);
  });
});

describe('writeFileAtomic and writeFileAtomicSync', () => {
  const variants = [
    ['async', (p: string, d: Uint8Array | string) => writeFileAtomic(p, d)],
    ['sync', async (p: string, d: Uint8Array | string) => writeFileAtomicSync(p, d)],
  ] as const;
  for (const [kind, write] of variants) {
    it(`${kind}: writes strings and bytes, replaces the target, leaves no temporary file`, async () => {
      const dir = mkdtempSync(join(scratch, `ok-${kind}-`));
      const path = join(dir, 'out.txt');
      await write(path, 'first ✓');
      assert.equal(readFileSync(path, 'utf8'), 'first ✓');
      const bytes = Uint8Array.from(randomValues(1000, 11, 0, 256).map(Math.floor));
      await write(path, bytes);
      assert.deepEqual(new Uint8Array(readFileSync(path)), bytes);
      assert.deepEqual(readdirSync(dir), ['out.txt']);
    });

    it(`${kind}: a missing parent directory throws and creates nothing`, async () => {
      const missing = join(scratch, `missing-${kind}`);
      await assert.rejects(write(join(missing, 'out.txt'), 'data'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
      assert.equal(existsSync(missing), false);
    });

    it(`${kind}: a failed rename removes the temporary file and leaves the target as it was`, async () => {
      const dir = mkdtempSync(join(scratch, `rename-${kind}-`));
      const target = join(dir, 'target'); // a non-empty directory: renaming a file over it fails, even for root
      mkdirSync(target);
      writeFileSync(join(target, 'keep'), 'kept');
      await assert.rejects(write(target, 'data'), (e: NodeJS.ErrnoException) => e.code === 'EISDIR' || e.code === 'ENOTEMPTY' || e.code === 'EEXIST');
      assert.deepEqual(readdirSync(dir), ['target']);
      assert.equal(readFileSync(join(target, 'keep'), 'utf8'), 'kept');
    });

    it(`${kind}: data of the wrong type is refused before anything is written`, async () => {
      const dir = mkdtempSync(join(scratch, `type-${kind}-`));
      const path = join(dir, 'out.txt');
      writeFileSync(path, 'old');
      await assert.rejects(
        write(path, 42 as unknown as string),
        (e: Error) => e instanceof st.ValueError && /data must be a string or a Uint8Array; received number/.test(e.message),
      );
      assert.deepEqual(readdirSync(dir), ['out.txt']);
      assert.equal(readFileSync(path, 'utf8'), 'old');
    });
  }

  it('concurrent writers to one path: the result is one complete write, no temporary files', async () => {
    const dir = mkdtempSync(join(scratch, 'race-'));
    const path = join(dir, 'out.bin');
    const payloads = Array.from({ length: 8 }, (_, k) => new Uint8Array(50_000 + k).fill(k + 1));
    await Promise.all(payloads.map((p) => writeFileAtomic(path, p)));
    const got = new Uint8Array(readFileSync(path));
    assert.ok(
      payloads.some((p) => p.length === got.length && p.every((v, i) => v === got[i])),
      'final file is one of the payloads, whole',
    );
    assert.deepEqual(readdirSync(dir), ['out.bin']);
  });
});
