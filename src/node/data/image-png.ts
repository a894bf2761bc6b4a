// Node only (Note [Platforms] in core/platform.ts): imported through src/index.ts, never by the browser entry.
// PNG: the header read and checked before fast-png sees the file (Note [Image sizes before
// decoding] in image.ts), then decoded into float pixels.

import { createInflateRaw, constants as zlibConstants } from 'node:zlib';
import { decode as decodePng } from 'fast-png';
import { checkPixels, checkDecodeBytes, corrupt } from '../../data/image-checks.js';
import { convert, pixelReader } from '../../data/image-pixels.js';
import type { DecodeOptions, HostImage } from '../../data/image-types.js';

interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colourType: number;
  interlaced: boolean;
  /** Samples per pixel in the stream (1 for palette indices). */
  samples: number;
  /** The IDAT chunks' data, in order (views into the file). */
  idat: Uint8Array[];
  /** Where each iCCP chunk starts and ends (CRC included). */
  iccp: [number, number][];
}

/** Colour type → samples per pixel, the bit depths it allows, and a name for messages. */
const PNG_COLOUR_TYPES: ReadonlyMap<number, { samples: number; depths: number[]; name: string }> = new Map([
  [0, { samples: 1, depths: [1, 2, 4, 8, 16], name: 'gray' }],
  [2, { samples: 3, depths: [8, 16], name: 'RGB' }],
  [3, { samples: 1, depths: [1, 2, 4, 8], name: 'palette' }],
  [4, { samples: 2, depths: [8, 16], name: 'gray+alpha' }],
  [6, { samples: 4, depths: [8, 16], name: 'RGBA' }],
]);

// Signature, IHDR's length and type, its 13 bytes of fields, its CRC.
const IHDR_END = 8 + 8 + 13 + 4;

const chunkType = (bytes: Uint8Array, at: number) => String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);

function readPngHeader(op: string, bytes: Uint8Array, path: string): PngHeader {
  if (bytes.length < IHDR_END) {
    throw corrupt(op, path, `truncated PNG header: the signature and the IHDR chunk take ${IHDR_END} bytes; the file has ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const firstType = chunkType(bytes, 12);
  if (firstType !== 'IHDR' || view.getUint32(8) !== 13) {
    throw corrupt(op, path, `the first chunk must be IHDR, of 13 bytes; found ${JSON.stringify(firstType)} of ${view.getUint32(8)} bytes`);
  }
  const width = view.getUint32(16),
    height = view.getUint32(20);
  const depth = bytes[24],
    colourType = bytes[25],
    compression = bytes[26],
    filter = bytes[27],
    interlace = bytes[28];
  checkPixels(op, path, 'IHDR', width, height);
  const colour = PNG_COLOUR_TYPES.get(colourType);
  if (colour === undefined) throw corrupt(op, path, `IHDR colour type ${colourType} is not one of 0, 2, 3, 4, 6`);
  if (!colour.depths.includes(depth)) {
    throw corrupt(
      op,
      path,
      `IHDR bit depth ${depth} is not allowed for colour type ${colourType} (${colour.name}); expected one of ${colour.depths.join(', ')}`,
    );
  }
  if (compression !== 0 || filter !== 0 || interlace > 1) {
    throw corrupt(op, path, `IHDR compression, filter and interlace methods ${compression}, ${filter}, ${interlace}: expected 0, 0 and 0 or 1`);
  }
  // The chunk list: IDAT data in order, and no second IHDR (fast-png would take the last one's size).
  const idat: Uint8Array[] = [],
    iccp: [number, number][] = [];
  for (let at = IHDR_END; ; ) {
    if (at + 8 > bytes.length) {
      throw corrupt(op, path, `truncated: the file ends at ${bytes.length} bytes, in or before the chunk header at byte ${at}, with no IEND chunk`);
    }
    const length = view.getUint32(at),
      type = chunkType(bytes, at + 4);
    if (type === 'IEND') break;
    if (length > bytes.length - at - 12) {
      throw corrupt(
        op,
        path,
        `truncated: the ${JSON.stringify(type)} chunk at byte ${at} declares ${length} bytes of data; the file ends ${bytes.length - at - 8} bytes after its header`,
      );
    }
    if (type === 'IHDR') throw corrupt(op, path, `a second IHDR chunk at byte ${at}`);
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length));
    if (type === 'iCCP') iccp.push([at, at + 12 + length]);
    at += 12 + length;
  }
  return { width, height, depth, colourType, interlaced: interlace === 1, samples: colour.samples, idat, iccp };
}

// Adam7 passes: first column and row, column and row steps.
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** The bytes the IDAT stream must inflate to: every row of every pass, each with its filter byte. */
function pngInflatedBytes(h: PngHeader): number {
  const rowBytes = (w: number) => Math.ceil((w * h.samples * h.depth) / 8);
  if (!h.interlaced) return h.height * (1 + rowBytes(h.width));
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = Math.ceil((h.width - x0) / dx),
      rows = Math.ceil((h.height - y0) / dy);
    if (w > 0 && rows > 0) total += rows * (1 + rowBytes(w));
  }
  return total;
}

/** The length of fast-png's sample array (elements: bytes, or uint16 for 16-bit). */
function pngSampleCount(h: PngHeader): number {
  // Rows of samples under 8 bits stay packed, each row padded to whole bytes.
  if (h.depth < 8) return h.height * Math.ceil((h.width * h.samples * h.depth) / 8);
  return h.height * h.width * h.samples;
}

/**
 * Inflates the IDAT stream only to count its bytes, stopping once past `expected`. The deflate
 * data after the 2-byte zlib header is inflated raw, which skips the Adler-32 check: fast-png
 * does not check it either, and zlib would drop the output it has not yet handed over when the
 * check fails. Z_SYNC_FLUSH counts what a stream without its end holds.
 */
function countInflated(idat: Uint8Array[], expected: number): Promise<number> {
  const stream = Buffer.concat(idat);
  if (stream.length < 2) return Promise.reject(new Error(`the IDAT chunks hold ${stream.length} bytes, too few for a zlib stream`));
  // The checks fflate makes: deflate, a window of at most 32 KB, the header's own check, no preset dictionary.
  if ((stream[0] & 15) !== 8 || stream[0] >> 4 > 7 || ((stream[0] << 8) | stream[1]) % 31 !== 0 || stream[1] & 32) {
    const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;
    return Promise.reject(new Error(`the IDAT stream starts with ${hex(stream[0])} ${hex(stream[1])}, not a zlib header fast-png reads`));
  }
  return new Promise((resolve, reject) => {
    const inflater = createInflateRaw({ finishFlush: zlibConstants.Z_SYNC_FLUSH, chunkSize: 64 * 1024 });
    let total = 0;
    inflater.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > expected) {
        inflater.destroy();
        resolve(total);
      }
    });
    inflater.on('end', () => resolve(total));
    inflater.on('error', (err) => reject(new Error(`the IDAT stream does not inflate: ${err.message}`)));
    inflater.end(stream.subarray(2));
  });
}

/** The bytes with the given [start, end) ranges, in order and disjoint, left out. */
function without(bytes: Uint8Array, ranges: [number, number][]): Uint8Array {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const [start, end] of ranges) {
    parts.push(bytes.subarray(from, start));
    from = end;
  }
  parts.push(bytes.subarray(from));
  return Buffer.concat(parts);
}

export async function fromPng(op: string, bytes: Uint8Array, path: string, options: DecodeOptions): Promise<HostImage> {
  const h = readPngHeader(op, bytes, path);
  const colour = PNG_COLOUR_TYPES.get(h.colourType)!;
  const field = `IHDR ${h.width} x ${h.height}, ${colour.name}, ${h.depth}-bit${h.interlaced ? ', interlaced' : ''}`;
  const channels = options.channels ?? (h.colourType === 0 || h.colourType === 4 ? 1 : 3);
  const inflated = pngInflatedBytes(h);
  // fast-png's inflated chunks, their join and the buffer fflate grows while inflating, then its
  // sample array: above every peak measured near the limit on Node 20, by at most a third.
  checkDecodeBytes(op, path, field, 3 * inflated + pngSampleCount(h) * (h.depth === 16 ? 2 : 1), channels, options, h.height, h.width);

  const count = await countInflated(h.idat, inflated);
  if (count !== inflated) {
    const problem = count > inflated ? `inflates past the ${inflated} bytes` : `inflates to ${count} bytes, short of the ${inflated}`;
    throw corrupt(op, path, `the IDAT stream ${problem} that ${field} needs`);
  }

  // fast-png inflates an ICC profile whole, however large; the pixels never use it.
  const png = decodePng(h.iccp.length === 0 ? bytes : without(bytes, h.iccp));
  if (png.width !== h.width || png.height !== h.height || png.data.length !== pngSampleCount(h)) {
    throw corrupt(
      op,
      path,
      `fast-png decoded ${png.width} x ${png.height} pixels into ${png.data.length} samples; ${field} needs ${pngSampleCount(h)}`,
    );
  }
  const max = h.colourType === 3 ? 255 : 2 ** h.depth - 1;
  const read = pixelReader(
    op,
    path,
    png.data,
    h.width,
    h.samples,
    h.depth < 8 ? h.depth : 0,
    max,
    channels,
    h.colourType === 3 ? png.palette : undefined,
  );
  return convert(read, h.height, h.width, channels, options.size);
}
