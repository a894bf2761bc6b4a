// Host-side image work for the data pipeline: decoding PNG (fast-png) and JPEG (jpeg-js) into
// float pixels in [0, 1], channel conversion, and bilinear sampling. Images in a pipeline are
// small and one at a time, so plain loops over a Float32Array are simpler than tensor ops and
// fast enough.

import { decode as decodePng, convertIndexedToRgb, type DecodedPng } from 'fast-png';
import jpeg from 'jpeg-js';
import { FormatError } from '../core/errors.js';

/** An image on the host: row-major [height, width, channels]. */
export interface HostImage {
  height: number;
  width: number;
  channels: number;
  data: Float32Array | Float64Array;
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

/** Unpacks 1/2/4-bit samples (rows padded to whole bytes, as PNG stores them) to one per entry. */
function unpackBits(png: DecodedPng): Uint8Array {
  const { width, height, channels, depth } = png;
  const packed = png.data as Uint8Array;
  const perRow = width * channels;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const out = new Uint8Array(perRow * height);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < perRow; i++) {
      const bit = i * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      out[y * perRow + i] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

function fromPng(bytes: Uint8Array): HostImage {
  const png = decodePng(bytes);
  const { width, height } = png;
  if (png.palette !== undefined) {
    const rgb = convertIndexedToRgb(png);
    const channels = rgb.length / (width * height);
    return toUnit(rgb, height, width, channels, 255);
  }
  const samples = png.depth < 8 ? unpackBits(png) : png.data;
  return toUnit(samples, height, width, png.channels, (1 << png.depth) - 1);
}

function fromJpeg(bytes: Uint8Array): HostImage {
  const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return toUnit(decoded.data, decoded.height, decoded.width, 4, 255);
}

function toUnit(samples: ArrayLike<number>, height: number, width: number, channels: number, max: number): HostImage {
  const data = new Float32Array(height * width * channels);
  const scale = 1 / max;
  for (let i = 0; i < data.length; i++) data[i] = samples[i] * scale;
  return { height, width, channels, data };
}

/** Decodes a PNG or JPEG file's bytes; anything else, or a corrupt file, is a FormatError naming it. */
export function decodeImage(op: string, bytes: Uint8Array, path: string): HostImage {
  let image: HostImage;
  try {
    if (isPng(bytes)) image = fromPng(bytes);
    else if (isJpeg(bytes)) image = fromJpeg(bytes);
    else throw new FormatError(`${op}: '${path}' is not a PNG or JPEG file (unrecognised signature)`);
  } catch (error) {
    if (error instanceof FormatError) throw error;
    throw new FormatError(`${op}: '${path}' is a corrupt image: ${(error as Error).message}`);
  }
  if (image.width === 0 || image.height === 0 || image.data.length !== image.width * image.height * image.channels) {
    throw new FormatError(`${op}: '${path}' is a corrupt image: ${image.width}x${image.height} pixels with ${image.data.length} samples`);
  }
  return image;
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
      out[3 * p] = data[s]; out[3 * p + 1] = data[s + 1]; out[3 * p + 2] = data[s + 2];
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
export function sampleBilinear(src: HostImage, y: number, x: number, mode: FillMode, fillValue: number, out: Float32Array | Float64Array, at: number): void {
  const { height, width, channels, data } = src;
  const y0 = Math.floor(y), x0 = Math.floor(x);
  const fy = y - y0, fx = x - x0;
  const rows = [fillIndex(y0, height, mode), fillIndex(y0 + 1, height, mode)];
  const cols = [fillIndex(x0, width, mode), fillIndex(x0 + 1, width, mode)];
  const wy = [1 - fy, fy], wx = [1 - fx, fx];
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
  const sy = image.height / height, sx = image.width / width;
  for (let i = 0; i < height; i++) {
    const y = Math.min(Math.max((i + 0.5) * sy - 0.5, 0), image.height - 1);
    for (let j = 0; j < width; j++) {
      const x = Math.min(Math.max((j + 0.5) * sx - 0.5, 0), image.width - 1);
      sampleBilinear(image, y, x, 'nearest', 0, out, (i * width + j) * image.channels);
    }
  }
  return { height, width, channels: image.channels, data: out };
}
