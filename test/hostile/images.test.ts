// Hostile PNG and JPEG files, generated here: headers that declare far more pixels than the file
// could hold, zero sizes, truncated headers, and deflate streams that inflate past what the header
// declares. Every one must be refused with a FormatError naming the file (and, where a ceiling
// decides, the ceiling and how to raise it) before the decoder allocates for it
// (Note [Trust no size] in src/core/limits.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { constants, crc32, deflateRawSync, deflateSync, inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import * as st from '../../src/index.js';
import { measureInChild } from './measure.js';

const root = mkdtempSync(join(tmpdir(), 'strata-hostile-images-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const MiB = 1 << 20;

function save(name: string, bytes: Uint8Array): string {
  const path = join(root, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
};
const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);

// --- PNG ----------------------------------------------------------------------------------

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

function chunk(type: string, data: Uint8Array): Uint8Array {
  const typeAndData = concat([new TextEncoder().encode(type), data]);
  return concat([u32(data.length), typeAndData, u32(crc32(typeAndData))]);
}

interface Ihdr {
  width: number;
  height: number;
  depth?: number;
  colourType?: number;
  interlace?: number;
}

const ihdr = ({ width, height, depth = 8, colourType = 0, interlace = 0 }: Ihdr) =>
  chunk('IHDR', concat([u32(width), u32(height), Uint8Array.of(depth, colourType, 0, 0, interlace)]));

function png(header: Ihdr, zlibStream: Uint8Array, extraChunks: Uint8Array[] = []): Uint8Array {
  return concat([PNG_SIGNATURE, ihdr(header), ...extraChunks, chunk('IDAT', zlibStream), chunk('IEND', new Uint8Array(0))]);
}

/**
 * A zlib stream that inflates to `bytes` zero bytes, built from copies of one deflated MiB so a
 * stream of hundreds of MiB costs nothing to make. A full flush ends each piece on a byte
 * boundary, and as a piece was compressed at the start of a stream it refers to no earlier
 * output, so the pieces concatenate into one valid deflate stream; an empty final block and the
 * Adler-32 of the zeros (s1 = 1, s2 = length mod 65521) close it.
 */
function zerosZlib(bytes: number): Uint8Array {
  const piece = (n: number) => deflateRawSync(Buffer.alloc(n), { finishFlush: constants.Z_FULL_FLUSH });
  const mib = piece(MiB);
  const parts: Uint8Array[] = [Uint8Array.of(0x78, 0x01)];
  for (let i = 0; i < Math.floor(bytes / MiB); i++) parts.push(mib);
  if (bytes % MiB) parts.push(piece(bytes % MiB));
  parts.push(Uint8Array.of(0x03, 0x00), u32((((bytes % 65521) << 16) | 1) >>> 0));
  return concat(parts);
}

test('the generators make what they claim', () => {
  const stream = zerosZlib(3 * MiB + 12345);
  const inflated = inflateSync(stream);
  assert.equal(inflated.length, 3 * MiB + 12345);
  assert.ok(inflated.every((b) => b === 0));
  assert.ok(stream.length < 8 * 1024, `3 MiB of zeros deflate to ${stream.length} bytes`);
});

/** Asserts a FormatError whose message contains every fragment. */
async function refuses(read: () => Promise<unknown>, fragments: string[]): Promise<void> {
  await assert.rejects(read, (error: Error) => {
    assert.ok(error instanceof st.FormatError, `expected a FormatError; got ${error.name}: ${error.message}`);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `message lacks '${fragment}': ${error.message}`);
    return true;
  });
}

const RAISE_PIXELS = 'st.setReadLimits({ maxImagePixels';
const RAISE_BYTES = 'st.setReadLimits({ maxDecodedBytes';

async function withLimits(limits: Partial<st.ReadLimits>, body: () => Promise<void>): Promise<void> {
  const previous = st.setReadLimits(limits);
  try {
    await body();
  } finally {
    st.setReadLimits(previous);
  }
}

test('a PNG whose IHDR declares 50000 x 50000 pixels is refused before decoding, by readImage and imageFolder', async () => {
  // A correct header and a body far too short for it: the refusal must come from the header.
  const path = save('huge-ihdr/a/huge.png', png({ width: 50000, height: 50000 }, deflateSync(new Uint8Array(1000))));
  const fragments = [`'${path}'`, 'IHDR width x height 50000 x 50000 = 2.5e9 pixels', 'maxImagePixels', '16777216', RAISE_PIXELS];
  await refuses(() => st.data.readImage(path), fragments);
  await refuses(() => st.data.readImage(path, { size: [8, 8], channels: 1 }), fragments);
  await refuses(() => st.data.imageFolder(join(root, 'huge-ihdr'), { imageSize: [8, 8] }).toArray(), fragments);
  // Raising the ceiling lets the header through; the short body is then the problem.
  await withLimits({ maxImagePixels: 50000 * 50000, maxDecodedBytes: 2 ** 40 }, async () => {
    await refuses(() => st.data.readImage(path), [`'${path}'`, 'IDAT']);
  });
});

test('a PNG with zero width or height is refused, naming the IHDR field', async () => {
  const zeroWidth = save('zero-width.png', png({ width: 0, height: 5 }, deflateSync(new Uint8Array(5))));
  await refuses(() => st.data.readImage(zeroWidth), [`'${zeroWidth}'`, 'IHDR width x height 0 x 5']);
  const zeroHeight = save('zero-height.png', png({ width: 7, height: 0 }, deflateSync(new Uint8Array(0))));
  await refuses(() => st.data.readImage(zeroHeight), [`'${zeroHeight}'`, 'IHDR width x height 7 x 0']);
});

test('a PNG cut inside its header is refused as truncated, naming the IHDR chunk', async () => {
  const whole = png({ width: 4, height: 4 }, deflateSync(new Uint8Array(20)));
  for (const keep of [8, 12, 20, 30]) {
    const path = save(`cut-${keep}.png`, whole.subarray(0, keep));
    await refuses(() => st.data.readImage(path), [`'${path}'`, 'truncated', 'IHDR', `${keep} bytes`]);
  }
  // Not IHDR first: a chunk of another type where the header belongs.
  const noHeader = save('no-ihdr.png', concat([PNG_SIGNATURE, chunk('IDAT', deflateSync(new Uint8Array(20))), chunk('IEND', new Uint8Array(0))]));
  await refuses(() => st.data.readImage(noHeader), [`'${noHeader}'`, 'IHDR']);
});

test('a second IHDR cannot smuggle in a size the first one did not declare', async () => {
  const second = ihdr({ width: 50000, height: 50000 });
  const path = save('two-ihdr.png', png({ width: 1, height: 1 }, deflateSync(new Uint8Array(2)), [second]));
  await refuses(() => st.data.readImage(path), [`'${path}'`, 'second IHDR']);
});

test('a PNG whose IDAT inflates past what its IHDR declares is refused before the decoder inflates it', async () => {
  // 1024 x 1024 gray needs 1024 * (1 + 1024) bytes; the stream holds 64 MiB of zeros (64 KB).
  const path = save('idat-bomb.png', png({ width: 1024, height: 1024 }, zerosZlib(64 * MiB)));
  await refuses(() => st.data.readImage(path, { size: [4, 4] }), [`'${path}'`, 'IDAT', 'inflates past', '1049600 bytes', 'IHDR']);
});

test('a PNG within maxImagePixels that would take more than maxDecodedBytes to decode is refused', async () => {
  // 1024 x 1024 RGBA 16-bit: 8 MiB of samples from a few KB of zeros.
  const path = save('costly.png', png({ width: 1024, height: 1024, depth: 16, colourType: 6 }, zerosZlib(1024 * (1 + 1024 * 8))));
  await withLimits({ maxDecodedBytes: 4 * MiB }, async () => {
    await refuses(
      () => st.data.readImage(path, { size: [4, 4] }),
      [`'${path}'`, 'IHDR 1024 x 1024', 'maxDecodedBytes', String(4 * MiB), RAISE_BYTES],
    );
  });
});

// --- JPEG ---------------------------------------------------------------------------------

/** A small real JPEG (jpeg-js's encoder: baseline, 3 components at 1x1 sampling). */
function smallJpeg(): Uint8Array {
  const rgba = new Uint8Array(8 * 8 * 4).fill(128);
  return new Uint8Array(jpeg.encode({ width: 8, height: 8, data: rgba }, 90).data);
}

/** Byte offset of the first segment with `marker`, walking the segments after SOI. */
function segmentAt(bytes: Uint8Array, marker: number): number {
  for (let p = 2; p + 4 <= bytes.length; p += 2 + ((bytes[p + 2] << 8) | bytes[p + 3])) {
    if (bytes[p] === 0xff && bytes[p + 1] === marker) return p;
  }
  throw new Error(`no marker 0xff${marker.toString(16)}`);
}

/** The JPEG with its SOF0 frame header declaring another size (the scan data stays 8 x 8). */
function withFrameSize(bytes: Uint8Array, width: number, height: number, components?: number): Uint8Array {
  const out = bytes.slice();
  const sof = segmentAt(out, 0xc0);
  out.set(u16(height), sof + 5);
  out.set(u16(width), sof + 7);
  if (components === 1) {
    // Keep only the first component: length 8 + 3, count 1; the rest of the segment is dropped.
    const head = out.subarray(0, sof + 2);
    const segment = concat([u16(11), out.subarray(sof + 4, sof + 9), Uint8Array.of(1), out.subarray(sof + 10, sof + 13)]);
    const tail = out.subarray(sof + 2 + ((out[sof + 2] << 8) | out[sof + 3]));
    return concat([head, segment, tail]);
  }
  return out;
}

test('the JPEG generator writes the frame header the encoder writes for that size', () => {
  const frame = (bytes: Uint8Array) => {
    const at = segmentAt(bytes, 0xc0);
    return Array.from(bytes.subarray(at, at + 19));
  };
  const real = new Uint8Array(jpeg.encode({ width: 40, height: 24, data: new Uint8Array(40 * 24 * 4) }, 90).data);
  assert.deepEqual(frame(withFrameSize(smallJpeg(), 40, 24)), frame(real));
  assert.deepEqual(frame(withFrameSize(smallJpeg(), 40, 24, 1)).slice(0, 13), [0xff, 0xc0, 0, 11, 8, 0, 24, 0, 40, 1, 1, 0x11, 0]);
});

test('a JPEG whose SOF declares 65000 x 65000 pixels is refused before decoding', async () => {
  const path = save('huge-sof/a/huge.jpg', withFrameSize(smallJpeg(), 65000, 65000));
  const fragments = [`'${path}'`, 'SOF0 width x height 65000 x 65000 = 4.23e9 pixels', 'maxImagePixels', '16777216', RAISE_PIXELS];
  await refuses(() => st.data.readImage(path), fragments);
  await refuses(() => st.data.imageFolder(join(root, 'huge-sof'), { imageSize: [8, 8] }).toArray(), fragments);
});

test("a JPEG with zero height (a DNL marker's job, unsupported) or zero width is refused, naming the SOF field", async () => {
  const zeroHeight = save('zero-height.jpg', withFrameSize(smallJpeg(), 8, 0));
  await refuses(() => st.data.readImage(zeroHeight), [`'${zeroHeight}'`, 'SOF0 width x height 8 x 0']);
  const zeroWidth = save('zero-width.jpg', withFrameSize(smallJpeg(), 0, 8));
  await refuses(() => st.data.readImage(zeroWidth), [`'${zeroWidth}'`, 'SOF0 width x height 0 x 8']);
});

test('a JPEG cut before or inside its frame header is refused as truncated', async () => {
  const whole = smallJpeg();
  const sof = segmentAt(whole, 0xc0);
  for (const keep of [3, 10, sof, sof + 3, sof + 9, sof + 14]) {
    const path = save(`cut-${keep}.jpg`, whole.subarray(0, keep));
    await refuses(() => st.data.readImage(path), [`'${path}'`, 'truncated', 'SOF', `${keep} bytes`]);
  }
});

/** The JPEG with a second SOF0 frame header, declaring width x height, right after the first. */
function withSecondFrame(bytes: Uint8Array, width: number, height: number): Uint8Array {
  const sof = segmentAt(bytes, 0xc0),
    end = sof + 2 + ((bytes[sof + 2] << 8) | bytes[sof + 3]);
  const second = withFrameSize(bytes, width, height).subarray(sof, end);
  return concat([bytes.subarray(0, end), second, bytes.subarray(end)]);
}

test('a second SOF frame header cannot make jpeg-js allocate past what the first declared', async () => {
  const path = save('two-frames.jpg', withSecondFrame(smallJpeg(), 4000, 4000));
  await refuses(() => st.data.readImage(path), [`'${path}'`, 'first frame header (SOF0 8 x 8, 3 components)', 'second frame']);
});

test('a JPEG within maxImagePixels that would take more than maxDecodedBytes to decode is refused', async () => {
  const path = save('costly.jpg', withFrameSize(smallJpeg(), 1024, 1024));
  await withLimits({ maxDecodedBytes: 4 * MiB }, async () => {
    await refuses(
      () => st.data.readImage(path, { size: [4, 4] }),
      [`'${path}'`, 'SOF0 1024 x 1024', 'maxDecodedBytes', String(4 * MiB), RAISE_BYTES],
    );
  });
});

// --- Memory -------------------------------------------------------------------------------

/** Reads `path` with st.data.readImage in a fresh process (measure.ts): the error, the shape, the memory growth. */
function readInChild(path: string): ChildRead {
  const { value, ...rest } = measureInChild<number[]>(`(await st.data.readImage(${JSON.stringify(path)})).shape`);
  return { ...rest, shape: value };
}

interface ChildRead {
  error: { name: string; message: string } | null;
  shape: number[] | null;
  peakGrowth: number;
  rssGrowth: number;
  arrayBuffersGrowth: number;
}

const LIMIT = 256 * 1024 * 1024;

/** Asserts that peak RSS, RSS and ArrayBuffer memory grew by far less than 256 MiB; returns the figures for messages. */
function assertCheap({ error, peakGrowth, rssGrowth, arrayBuffersGrowth }: ChildRead): string {
  const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
  const report = `peak RSS +${mib(peakGrowth)}, RSS +${mib(rssGrowth)}, ArrayBuffers +${mib(arrayBuffersGrowth)}; error: ${JSON.stringify(error)}`;
  for (const growth of [peakGrowth, rssGrowth, arrayBuffersGrowth]) assert.ok(growth < LIMIT / 8, report);
  return report;
}

/** Reads `path` in a child and asserts the FormatError naming the file and `fragment`, and that memory hardly grew. */
function refusesCheaply(path: string, fragment: string): void {
  const result = readInChild(path);
  const { error } = result;
  const report = assertCheap(result);
  assert.equal(error?.name, 'FormatError', report);
  assert.ok(error!.message.includes(`'${path}'`) && error!.message.includes(fragment), report);
}

test('reading a 200 KB PNG that declares 50000 x 50000 pixels allocates almost nothing', () => {
  // A valid image body as far as it goes: 200 MiB of zero rows in about 200 KB of deflate data.
  const bytes = png({ width: 50000, height: 50000 }, zerosZlib(200 * MiB));
  assert.ok(bytes.length < 300 * 1024, `${bytes.length} bytes`);
  refusesCheaply(save('memory/huge.png', bytes), 'maxImagePixels');
});

test('reading a 600-byte JPEG that declares 4096 x 4096 colour pixels allocates almost nothing', () => {
  // Within maxImagePixels, but jpeg-js would hold one Int32Array(64) per 8 x 8 block of each of
  // the three components, about 500 MiB in V8, before it looks at the scan data.
  refusesCheaply(save('memory/costly.jpg', withFrameSize(smallJpeg(), 4096, 4096)), 'maxDecodedBytes');
});

test('reading a 600-byte JPEG with a second frame header of 4000 x 4000 pixels allocates almost nothing', () => {
  refusesCheaply(save('memory/two-frames.jpg', withSecondFrame(smallJpeg(), 4000, 4000)), 'second frame');
});

test('reading a 500 KB PNG whose ICC profile inflates to 512 MiB decodes its pixels and allocates almost nothing', () => {
  // fast-png inflates an iCCP chunk whole; the pixels do not need it.
  const profile = chunk('iCCP', concat([new TextEncoder().encode('bomb'), Uint8Array.of(0, 0), zerosZlib(512 * MiB)]));
  const bytes = png({ width: 4, height: 4 }, deflateSync(new Uint8Array(4 * 5)), [profile]);
  assert.ok(bytes.length < 600 * 1024, `${bytes.length} bytes`);
  const result = readInChild(save('memory/icc-bomb.png', bytes));
  const report = assertCheap(result);
  assert.equal(result.error, null, report);
  assert.deepEqual(result.shape, [4, 4, 1], report);
});
