// Node only (Note [Platforms] in core/platform.ts): imported through src/index.ts, never by the browser entry.
// Host-side image decoding for the data pipeline: PNG (image-png.ts, fast-png) and JPEG
// (image-jpeg.ts, jpeg-js) into float pixels in [0, 1] (image-pixels.ts), with their sizes
// checked first (image-checks.ts).
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

import { FormatError } from '../../core/errors.js';
import { corrupt } from '../../data/image-checks.js';
import { fromJpeg } from '../../data/image-jpeg.js';
import { fromPng } from './image-png.js';
import type { DecodeOptions, HostImage } from '../../data/image-types.js';

export type { DecodeOptions, FillMode, HostImage } from '../../data/image-types.js';
export { fillIndex, sampleBilinear } from '../../data/image-pixels.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
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
