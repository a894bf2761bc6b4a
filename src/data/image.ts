// Host-side image work for the data pipeline: decoding PNG (fast-png) and JPEG (jpeg-js) into
// float pixels in [0, 1], channel conversion, and bilinear sampling. Images in a pipeline are
// small and one at a time, so plain loops over a Float32Array are simpler than tensor ops and
// fast enough.
//
// Note [Image sizes before decoding]
// Both decoders allocate from the sizes in the file's header, and a few hundred KB of deflate
// data can declare 50000 x 50000 pixels. So the header is read here first (PNG: the IHDR chunk
// and the chunk list; JPEG: the markers up to the SOFn frame header), every read bounds-checked,
// and the file is refused before a decoder sees it when it declares more pixels than
// maxImagePixels or would take more than maxDecodedBytes to decode (src/core/limits.ts, Note
// [Trust no size]). The byte estimates follow what each decoder really holds at its peak:
//
// - fast-png inflates the whole IDAT stream into chunks, joins them into one buffer, then
//   unfilters into the sample array; about three times the inflated size, plus the samples.
//   Nothing in it stops at the size IHDR implies, so the stream is first inflated here with
//   zlib, only counted and thrown away chunk by chunk, and refused unless it inflates to exactly
//   that size.
// - jpeg-js allocates one Int32Array(64) per 8 x 8 block per component before it reads the scan
//   data. It counts 256 bytes for each; with V8's object headers each costs about 700 (measured on
//   Node 20), so its own maxMemoryUsageInMB lets through twice to three times what it says. It
//   is still given that option, set to what it will count for the frame this header declares, so
//   a second frame or a flood of tables cannot make it allocate more than was checked here.
//
// Converting the decoded samples goes straight to the float32 output in the channels asked for,
// resized on the way when a size is asked for, so no full-size float copy of the file's own
// channels is made only to be converted or shrunk again.

import { createInflateRaw, constants as zlibConstants } from 'node:zlib';
import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { FormatError } from '../core/errors.js';
import { getReadLimits } from '../core/limits.js';

/** An image on the host: row-major [height, width, channels]. */
export interface HostImage {
  height: number;
  width: number;
  channels: number;
  data: Float32Array | Float64Array;
}

/** What decodeImage makes of the file. */
export interface DecodeOptions {
  /** 1 (grayscale) or 3 (RGB); default: 1 for gray PNGs (alpha or not), 3 for the rest. */
  channels?: 1 | 3;
  /** Resize (bilinear, as resizeBilinearHost) to [height, width]; default: the file's own size. */
  size?: readonly [number, number];
  /**
   * How many copies of the float32 output the caller will hold at once, for the memory estimate;
   * default 1. Making a tensor of it holds three: st.tensor converts the array to a new one, which
   * the backend then copies into its own storage.
   */
  outputCopies?: number;
}

/** How sampling treats coordinates outside the image (Keras's fill modes). */
export type FillMode = 'reflect' | 'constant' | 'nearest' | 'wrap';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

const MiB = 1024 * 1024;

/** A count for a message: exact below a million, else three significant digits (2.5e9). */
function approx(n: number): string {
  return n < 1e6 ? String(n) : Number(n.toPrecision(3)).toExponential().replace('e+', 'e');
}

/** Throws unless width x height is a positive size within maxImagePixels; `field` names where the file says so. */
function checkPixels(op: string, path: string, field: string, width: number, height: number): void {
  if (width === 0 || height === 0) {
    throw new FormatError(`${op}: '${path}' is a corrupt image: ${field} width x height ${width} x ${height}: both must be positive`);
  }
  const limit = getReadLimits().maxImagePixels;
  if (width * height > limit) {
    throw new FormatError(
      `${op}: '${path}' declares ${field} width x height ${width} x ${height} = ${approx(width * height)} pixels, ` +
        `more than the limit of ${limit} pixels on an image (maxImagePixels); if the file is trusted, raise it with st.setReadLimits({ maxImagePixels: n })`,
    );
  }
}

/**
 * Throws when decoding would hold more than maxDecodedBytes at its peak: what the decoder holds
 * and the copies of the output. Summed, not the larger of the two: the decoder's buffers are
 * garbage once it returns, but still resident when the output is made (measured on Node 20).
 * `what` describes the header.
 */
function checkDecodeBytes(
  op: string,
  path: string,
  what: string,
  decoder: number,
  channels: number,
  options: DecodeOptions,
  height: number,
  width: number,
): void {
  const [outHeight, outWidth] = options.size ?? [height, width];
  const bytes = decoder + (options.outputCopies ?? 1) * outHeight * outWidth * channels * 4;
  const limit = getReadLimits().maxDecodedBytes;
  if (bytes > limit) {
    throw new FormatError(
      `${op}: '${path}' would take about ${approx(Math.ceil(bytes))} bytes to decode (${what}), more than the limit of ${limit} bytes ` +
        `on what a compressed file may decode to (maxDecodedBytes); if the file is trusted, raise it with st.setReadLimits({ maxDecodedBytes: n })`,
    );
  }
}

const corrupt = (op: string, path: string, detail: string) => new FormatError(`${op}: '${path}' is a corrupt image: ${detail}`);

// ---- PNG --------------------------------------------------------------------------------

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

async function fromPng(op: string, bytes: Uint8Array, path: string, options: DecodeOptions): Promise<HostImage> {
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

// ---- JPEG -------------------------------------------------------------------------------

interface JpegFrame {
  /** The SOFn marker's second byte (0xc0 baseline, 0xc1 extended, 0xc2 progressive, ...). */
  marker: number;
  width: number;
  height: number;
  /** Each component's horizontal and vertical sampling factors, in frame order. */
  components: { h: number; v: number }[];
}

const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

function markerName(m: number): string {
  if (isSof(m)) return `SOF${m - 0xc0}`;
  if (m >= 0xe0 && m <= 0xef) return `APP${m - 0xe0}`;
  const names: Record<number, string> = {
    0xc4: 'DHT',
    0xcc: 'DAC',
    0xd8: 'SOI',
    0xd9: 'EOI',
    0xda: 'SOS',
    0xdb: 'DQT',
    0xdc: 'DNL',
    0xdd: 'DRI',
    0xfe: 'COM',
  };
  return names[m] ?? `marker 0xff${m.toString(16).padStart(2, '0')}`;
}

/** Walks the marker segments after SOI to the first SOFn frame header and reads it. */
function readJpegFrame(op: string, bytes: Uint8Array, path: string): JpegFrame {
  const truncated = (where: string) =>
    corrupt(op, path, `truncated before the end of the SOF frame header: ${where}; the file has ${bytes.length} bytes`);
  const u16 = (at: number) => (bytes[at] << 8) | bytes[at + 1];
  let at = 2;
  for (;;) {
    if (at >= bytes.length) throw truncated(`the file ends at byte ${at}, where a marker should be`);
    if (bytes[at] !== 0xff) throw corrupt(op, path, `expected a marker at byte ${at}; found 0x${bytes[at].toString(16).padStart(2, '0')}`);
    const start = at;
    while (at < bytes.length && bytes[at] === 0xff) at++; // fill bytes may precede a marker
    if (at >= bytes.length) throw truncated(`the file ends inside the marker at byte ${start}`);
    const marker = bytes[at++];
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length, no data
    if (marker === 0xd8 || marker === 0xd9 || marker === 0xda) {
      throw corrupt(op, path, `${markerName(marker)} at byte ${start}, before any SOF frame header`);
    }
    if (at + 2 > bytes.length) throw truncated(`the file ends inside the length of the ${markerName(marker)} segment at byte ${start}`);
    const length = u16(at);
    if (length < 2) throw corrupt(op, path, `the ${markerName(marker)} segment at byte ${start} declares a length of ${length}; the least is 2`);
    if (at + length > bytes.length)
      throw truncated(`the ${markerName(marker)} segment at byte ${start} declares ${length} bytes, past the end of the file`);
    if (isSof(marker)) {
      const field = markerName(marker);
      if (length < 8) throw corrupt(op, path, `the ${field} frame header at byte ${start} declares ${length} bytes; it needs at least 8`);
      const height = u16(at + 3),
        width = u16(at + 5),
        count = bytes[at + 7];
      if (width === 0 || height === 0) {
        throw corrupt(
          op,
          path,
          `${field} width x height ${width} x ${height}: both must be positive (a height left to a DNL marker is not supported)`,
        );
      }
      checkPixels(op, path, field, width, height);
      if (length !== 8 + 3 * count)
        throw corrupt(op, path, `the ${field} frame header declares ${count} components in ${length} bytes; that takes ${8 + 3 * count}`);
      const components: { h: number; v: number }[] = [];
      const ids = new Set<number>();
      for (let c = 0; c < count; c++) {
        const id = bytes[at + 8 + 3 * c],
          factors = bytes[at + 9 + 3 * c];
        const h = factors >> 4,
          v = factors & 15;
        if (ids.has(id)) throw corrupt(op, path, `the ${field} frame header lists component ${id} twice`);
        if (h < 1 || h > 4 || v < 1 || v > 4)
          throw corrupt(op, path, `${field} component ${id} has sampling factors ${h} x ${v}; each must be 1 to 4`);
        ids.add(id);
        components.push({ h, v });
      }
      return { marker, width, height, components };
    }
    at += length;
  }
}

// What one 8 x 8 block of one component really costs jpeg-js: an Int32Array(64) (256 bytes of
// data, which is all jpeg-js counts) with V8's headers, and its share of the row arrays; measured
// at 470 to 850 bytes on Node 20 (Note [Image sizes before decoding]).
const JPEG_BLOCK_BYTES = 720;
// Each row of each component's output is its own Uint8Array; what V8 adds to one.
const JPEG_LINE_OVERHEAD = 160;

/** What jpeg-js 0.4 allocates to decode `frame` to RGB: as it counts it, and as V8 holds it. */
function jpegCost(frame: JpegFrame): { counted: number; resident: number } {
  const { width, height, components } = frame;
  const maxH = Math.max(1, ...components.map((c) => c.h)),
    maxV = Math.max(1, ...components.map((c) => c.v));
  const mcusPerLine = Math.ceil(width / 8 / maxH),
    mcusPerColumn = Math.ceil(height / 8 / maxV);
  let blocks = 0,
    lineBytes = 0,
    lines = 0;
  for (const { h, v } of components) {
    blocks += mcusPerColumn * v * mcusPerLine * h;
    const blocksPerLine = Math.ceil((Math.ceil(width / 8) * h) / maxH),
      blocksPerColumn = Math.ceil((Math.ceil(height / 8) * v) / maxV);
    lineBytes += blocksPerLine * 8 * blocksPerColumn * 8;
    lines += blocksPerColumn * 8;
  }
  // Then all components interleaved at full size, then the RGB image.
  const images = width * height * (components.length + 3);
  return { counted: blocks * 256 + lineBytes + images, resident: blocks * JPEG_BLOCK_BYTES + lineBytes + lines * JPEG_LINE_OVERHEAD + images };
}

function fromJpeg(op: string, bytes: Uint8Array, path: string, options: DecodeOptions): HostImage {
  const frame = readJpegFrame(op, bytes, path);
  const { width, height } = frame;
  const field = `${markerName(frame.marker)} ${width} x ${height}, ${frame.components.length} component${frame.components.length === 1 ? '' : 's'}`;
  if (frame.marker > 0xc2) {
    throw new FormatError(
      `${op}: '${path}' is a ${markerName(frame.marker)} JPEG; jpeg-js decodes only baseline, extended and progressive ones (SOF0, SOF1, SOF2)`,
    );
  }
  if (frame.components.length !== 1 && frame.components.length !== 3 && frame.components.length !== 4) {
    throw new FormatError(
      `${op}: '${path}' has ${frame.components.length} components in its ${markerName(frame.marker)} frame header; jpeg-js decodes 1 (gray), 3 (YCbCr) or 4 (CMYK)`,
    );
  }
  const channels = options.channels ?? 3;
  const cost = jpegCost(frame);
  checkDecodeBytes(op, path, field, cost.resident, channels, options, height, width);
  // Each table jpeg-js reads costs it at most 4 bytes (a DQT's 256 for 64 or more in the file) per file byte.
  const tables = 4 * bytes.length;
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      // A bit over our own check, which has run: jpeg-js's is in floating-point megapixels.
      maxResolutionInMP: (getReadLimits().maxImagePixels + 1) / 1e6,
      maxMemoryUsageInMB: (cost.counted + tables) / MiB,
    });
  } catch (error) {
    const message = (error as Error).message;
    if (!/maxMemoryUsageInMB|maxResolutionInMP/.test(message)) throw error;
    throw corrupt(op, path, `decoding it takes more than its first frame header (${field}) declares, as with a second frame (jpeg-js: ${message})`);
  }
  if (decoded.width !== width || decoded.height !== height || decoded.data.length !== width * height * 3) {
    throw corrupt(
      op,
      path,
      `jpeg-js decoded ${decoded.width} x ${decoded.height} pixels into ${decoded.data.length} bytes; ${field} needs ${width * height * 3}`,
    );
  }
  return convert(pixelReader(op, path, decoded.data, width, 3, 0, 255, channels), height, width, channels, options.size);
}

// ---- Samples to float pixels ------------------------------------------------------------

/** Writes pixel p's values in [0, 1], in the output's channels, to out[at...]. */
type PixelReader = (p: number, out: Float32Array, at: number) => void;

const BT601 = [0.299, 0.587, 0.114];

/**
 * A reader over decoded samples: `samples` per pixel, interleaved, or, when `packedDepth` is
 * 1, 2 or 4, one sample per pixel packed most significant bits first in rows padded to whole
 * bytes (as PNG stores them). Palette indices become their colour; alpha is dropped, not
 * composited; colour to gray uses the ITU-R BT.601 luma weights, as PIL and TensorFlow do. Each
 * sample is rounded to float32 before the luma sum, as when the image was converted to float
 * first and its channels after.
 */
function pixelReader(
  op: string,
  path: string,
  data: ArrayLike<number>,
  width: number,
  samples: number,
  packedDepth: number,
  max: number,
  channels: 1 | 3,
  palette?: readonly (readonly number[])[],
): PixelReader {
  const scale = 1 / max,
    fr = Math.fround;
  let first: (p: number) => number; // the pixel's first sample
  if (packedDepth > 0) {
    const rowBytes = Math.ceil((width * packedDepth) / 8),
      mask = (1 << packedDepth) - 1;
    first = (p) => {
      const y = Math.floor(p / width),
        bit = (p - y * width) * packedDepth;
      return (data[y * rowBytes + (bit >> 3)] >> (8 - packedDepth - (bit & 7))) & mask;
    };
  } else {
    first = (p) => data[p * samples];
  }
  if (palette !== undefined) {
    return (p, out, at) => {
      const entry = palette[first(p)];
      if (entry === undefined) throw corrupt(op, path, `palette index ${first(p)} at pixel ${p}; the palette has ${palette.length} entries`);
      const r = fr(entry[0] * scale),
        g = fr(entry[1] * scale),
        b = fr(entry[2] * scale);
      if (channels === 3) {
        out[at] = r;
        out[at + 1] = g;
        out[at + 2] = b;
      } else out[at] = BT601[0] * r + BT601[1] * g + BT601[2] * b;
    };
  }
  if (samples >= 3) {
    return (p, out, at) => {
      const s = p * samples;
      const r = fr(data[s] * scale),
        g = fr(data[s + 1] * scale),
        b = fr(data[s + 2] * scale);
      if (channels === 3) {
        out[at] = r;
        out[at + 1] = g;
        out[at + 2] = b;
      } else out[at] = BT601[0] * r + BT601[1] * g + BT601[2] * b;
    };
  }
  return (p, out, at) => {
    const v = first(p) * scale;
    out[at] = v;
    if (channels === 3) out[at + 1] = out[at + 2] = v;
  };
}

/**
 * The float32 image from `read`, at its own size or resized as resizeBilinearHost would resize
 * it, reading the four neighbours of each output pixel instead of a full-size float copy.
 */
function convert(read: PixelReader, height: number, width: number, channels: 1 | 3, size?: readonly [number, number]): HostImage {
  if (size === undefined || (size[0] === height && size[1] === width)) {
    const data = new Float32Array(height * width * channels);
    for (let p = 0; p < height * width; p++) read(p, data, p * channels);
    return { height, width, channels, data };
  }
  const [outHeight, outWidth] = size;
  const data = new Float32Array(outHeight * outWidth * channels);
  const pixel = new Float32Array(channels),
    acc = [0, 0, 0];
  const sy = height / outHeight,
    sx = width / outWidth;
  for (let i = 0; i < outHeight; i++) {
    const y = Math.min(Math.max((i + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(y),
      fy = y - y0;
    const rows = [y0, Math.min(y0 + 1, height - 1)],
      wy = [1 - fy, fy];
    for (let j = 0; j < outWidth; j++) {
      const x = Math.min(Math.max((j + 0.5) * sx - 0.5, 0), width - 1);
      const x0 = Math.floor(x),
        fx = x - x0;
      const cols = [x0, Math.min(x0 + 1, width - 1)],
        wx = [1 - fx, fx];
      acc[0] = acc[1] = acc[2] = 0;
      for (let a = 0; a < 2; a++) {
        if (wy[a] === 0) continue;
        for (let b = 0; b < 2; b++) {
          if (wx[b] === 0) continue;
          read(rows[a] * width + cols[b], pixel, 0);
          for (let c = 0; c < channels; c++) acc[c] += wy[a] * wx[b] * pixel[c];
        }
      }
      const at = (i * outWidth + j) * channels;
      for (let c = 0; c < channels; c++) data[at + c] = acc[c];
    }
  }
  return { height: outHeight, width: outWidth, channels, data };
}

/**
 * Decodes a PNG or JPEG file's bytes to float32 pixels in [0, 1], in the channels and at the
 * size asked for. Anything else, a corrupt file, or one past the read limits is a FormatError
 * naming it (Note [Image sizes before decoding]).
 */
export async function decodeImage(op: string, bytes: Uint8Array, path: string, options: DecodeOptions = {}): Promise<HostImage> {
  try {
    if (isPng(bytes)) return await fromPng(op, bytes, path, options);
    if (isJpeg(bytes)) return fromJpeg(op, bytes, path, options);
    throw new FormatError(`${op}: '${path}' is not a PNG or JPEG file (unrecognised signature)`);
  } catch (error) {
    if (error instanceof FormatError) throw error;
    throw corrupt(op, path, (error as Error).message);
  }
}

/**
 * Converts to 1 (grayscale) or 3 (RGB) channels. Alpha is dropped, not composited; gray uses
 * the ITU-R BT.601 luma weights (0.299, 0.587, 0.114), as PIL and TensorFlow do.
 */
export function toChannels(image: HostImage, channels: 1 | 3): HostImage {
  const { height, width, channels: c, data } = image;
  if (c === channels) return image;
  const n = height * width;
  const out = new Float32Array(n * channels);
  const colour = c >= 3;
  for (let p = 0; p < n; p++) {
    const s = p * c;
    if (channels === 1) {
      out[p] = colour ? 0.299 * data[s] + 0.587 * data[s + 1] + 0.114 * data[s + 2] : data[s];
    } else if (colour) {
      out[3 * p] = data[s];
      out[3 * p + 1] = data[s + 1];
      out[3 * p + 2] = data[s + 2];
    } else {
      out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = data[s];
    }
  }
  return { height, width, channels, data: out };
}

/** Maps an integer pixel index into [0, size) by the fill mode; -1 means "use the fill value". */
export function fillIndex(i: number, size: number, mode: FillMode): number {
  if (i >= 0 && i < size) return i;
  switch (mode) {
    case 'constant':
      return -1;
    case 'nearest':
      return i < 0 ? 0 : size - 1;
    case 'wrap':
      return ((i % size) + size) % size;
    case 'reflect': {
      // d c b a | a b c d | d c b a: period 2 * size, mirrored about the pixel edges.
      const period = 2 * size;
      const m = ((i % period) + period) % period;
      return m < size ? m : period - 1 - m;
    }
  }
}

/**
 * Bilinear sample of `src` at continuous pixel coordinates (y, x), pixel centres at integers,
 * writing `channels` values into out[at...]. Neighbours outside the image follow `mode`.
 */
export function sampleBilinear(
  src: HostImage,
  y: number,
  x: number,
  mode: FillMode,
  fillValue: number,
  out: Float32Array | Float64Array,
  at: number,
): void {
  const { height, width, channels, data } = src;
  const y0 = Math.floor(y),
    x0 = Math.floor(x);
  const fy = y - y0,
    fx = x - x0;
  const rows = [fillIndex(y0, height, mode), fillIndex(y0 + 1, height, mode)];
  const cols = [fillIndex(x0, width, mode), fillIndex(x0 + 1, width, mode)];
  const wy = [1 - fy, fy],
    wx = [1 - fx, fx];
  for (let ch = 0; ch < channels; ch++) {
    let acc = 0;
    for (let a = 0; a < 2; a++) {
      if (wy[a] === 0) continue;
      for (let b = 0; b < 2; b++) {
        if (wx[b] === 0) continue;
        const v = rows[a] < 0 || cols[b] < 0 ? fillValue : data[(rows[a] * width + cols[b]) * channels + ch];
        acc += wy[a] * wx[b] * v;
      }
    }
    out[at + ch] = acc;
  }
}

/**
 * Resizes with bilinear interpolation and half-pixel centres (TensorFlow's `resize` with
 * half_pixel_centers, no antialiasing): output pixel i samples input coordinate
 * (i + 0.5) * in / out - 0.5, clamped to the image.
 */
export function resizeBilinearHost(image: HostImage, height: number, width: number): HostImage {
  if (image.height === height && image.width === width) return image;
  const out = new (image.data instanceof Float64Array ? Float64Array : Float32Array)(height * width * image.channels);
  const sy = image.height / height,
    sx = image.width / width;
  for (let i = 0; i < height; i++) {
    const y = Math.min(Math.max((i + 0.5) * sy - 0.5, 0), image.height - 1);
    for (let j = 0; j < width; j++) {
      const x = Math.min(Math.max((j + 0.5) * sx - 0.5, 0), image.width - 1);
      sampleBilinear(image, y, x, 'nearest', 0, out, (i * width + j) * image.channels);
    }
  }
  return { height, width, channels: image.channels, data: out };
}
