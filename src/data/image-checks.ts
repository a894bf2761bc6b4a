// The checks both decoders make before decoding (Note [Image sizes before decoding] in src/node/data/image.ts):
// the declared pixels against maxImagePixels, the decoder's peak memory against maxDecodedBytes.

import { FormatError } from '../core/errors.js';
import { getReadLimits } from '../core/limits.js';
import type { DecodeOptions } from './image-types.js';

export const MiB = 1024 * 1024;

/** A count for a message: exact below a million, else three significant digits (2.5e9). */
export function approx(n: number): string {
  return n < 1e6 ? String(n) : Number(n.toPrecision(3)).toExponential().replace('e+', 'e');
}

/** Throws unless width x height is a positive size within maxImagePixels; `field` names where the file says so. */
export function checkPixels(op: string, path: string, field: string, width: number, height: number): void {
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
export function checkDecodeBytes(
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

export const corrupt = (op: string, path: string, detail: string) => new FormatError(`${op}: '${path}' is a corrupt image: ${detail}`);
