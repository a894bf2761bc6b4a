// JPEG: the markers read up to the frame header and checked before jpeg-js sees the file (Note
// [Image sizes before decoding] in src/node/data/image.ts), then decoded into float pixels.

import jpeg from 'jpeg-js';
import { FormatError } from '../core/errors.js';
import { getReadLimits } from '../core/limits.js';
import { MiB, checkPixels, checkDecodeBytes, corrupt } from './image-checks.js';
import { convert, pixelReader } from './image-pixels.js';
import type { DecodeOptions, HostImage } from './image-types.js';

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

export function fromJpeg(op: string, bytes: Uint8Array, path: string, options: DecodeOptions): HostImage {
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
