import { ShapeError, ValueError } from '../../core/errors.js';
import type { GridImage } from './images.js';

// Plain-data pickers that turn a model's numbers into grid images, so the report module needs no
// tensors: the caller downloads data (tensor.dataSync() or similar) and passes arrays.

function checkShape(op: string, name: string, length: number, shape: readonly number[], rank: number): void {
  if (shape.length !== rank || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`${op}: ${name} shape must be ${rank} positive integers; received [${shape.join(', ')}]`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== length) throw new ShapeError(`${op}: ${name} has ${length} values but shape [${shape.join(', ')}] needs ${size}`);
}

/**
 * A conv kernel `[kh, kw, in, out]` (Strata's and Keras's layout) as one image per output filter.
 * Three input channels are shown as RGB; any other count as the mean over input channels.
 * Pair with `imageGridPng(..., { normalize: 'each' })` so each filter uses its full gray range.
 */
export function filterImages(kernel: Float32Array | number[], shape: readonly number[]): GridImage[] {
  checkShape('filterImages', 'kernel', kernel.length, shape, 4);
  const [kh, kw, cin, cout] = shape;
  const channels = cin === 3 ? 3 : 1;
  const images: GridImage[] = [];
  for (let o = 0; o < cout; o++) {
    const pixels = new Float32Array(kh * kw * channels);
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        const base = (y * kw + x) * cin * cout + o;
        if (channels === 3) {
          for (let c = 0; c < 3; c++) pixels[(y * kw + x) * 3 + c] = kernel[base + c * cout];
        } else {
          let s = 0;
          for (let c = 0; c < cin; c++) s += kernel[base + c * cout];
          pixels[y * kw + x] = s / cin;
        }
      }
    }
    images.push({ pixels, height: kh, width: kw });
  }
  return images;
}

/**
 * The first `limit` (default 32) misclassified samples of images `[N, h, w, c]` (c = 1 or 3), in
 * dataset order, captioned "true → predicted" with class names.
 */
export function mistakeImages(
  x: Float32Array | number[],
  shape: readonly number[],
  yTrue: Int32Array | number[],
  yPred: Int32Array | number[],
  classNames: readonly string[],
  limit = 32,
): GridImage[] {
  checkShape('mistakeImages', 'x', x.length, shape, 4);
  const [n, h, w, c] = shape;
  if (c !== 1 && c !== 3) throw new ShapeError(`mistakeImages: images must have 1 or 3 channels; received ${c}`);
  if (yTrue.length !== n || yPred.length !== n) {
    throw new ShapeError(`mistakeImages: expected ${n} labels and predictions; received ${yTrue.length} and ${yPred.length}`);
  }
  if (!Number.isInteger(limit) || limit < 0) throw new ValueError(`mistakeImages: limit must be a non-negative integer; received ${limit}`);
  const name = (k: number): string => classNames[k] ?? String(k);
  const size = h * w * c;
  const images: GridImage[] = [];
  for (let i = 0; i < n && images.length < limit; i++) {
    if (yTrue[i] === yPred[i]) continue;
    const pixels = x instanceof Float32Array ? x.slice(i * size, (i + 1) * size) : Float32Array.from(x.slice(i * size, (i + 1) * size));
    images.push({ pixels, height: h, width: w, caption: `${name(yTrue[i])} → ${name(yPred[i])}` });
  }
  return images;
}
