// Float pixels from decoded samples (channel conversion, resizing on the way) and bilinear
// sampling with Keras's fill modes (the augmentation layers). Images in a pipeline are small and
// one at a time, so plain loops over a Float32Array are simpler than tensor ops and fast enough.

import { corrupt } from './image-checks.js';
import type { HostImage, FillMode } from './image-types.js';

/** Writes pixel p's values in [0, 1], in the output's channels, to out[at...]. */
export type PixelReader = (p: number, out: Float32Array, at: number) => void;

const BT601 = [0.299, 0.587, 0.114];

/**
 * A reader over decoded samples: `samples` per pixel, interleaved, or, when `packedDepth` is
 * 1, 2 or 4, one sample per pixel packed most significant bits first in rows padded to whole
 * bytes (as PNG stores them). Palette indices become their colour; alpha is dropped, not
 * composited; colour to gray uses the ITU-R BT.601 luma weights, as PIL and TensorFlow do. Each
 * sample is rounded to float32 before the luma sum, as when the image was converted to float
 * first and its channels after.
 */
export function pixelReader(
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
 * The float32 image from `read`, at its own size or resized bilinearly with half-pixel centres
 * (TensorFlow's `resize` with half_pixel_centers, no antialiasing), reading the four neighbours of each output pixel instead of a full-size float copy.
 */
export function convert(read: PixelReader, height: number, width: number, channels: 1 | 3, size?: readonly [number, number]): HostImage {
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
