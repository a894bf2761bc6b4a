// Random image augmentations for `dataset.map(...)`. Each factory returns a function that takes
// an image [h, w, c], a batch [n, h, w, c], or an element `{xs, ...}` (augmenting xs and keeping
// the rest), and draws fresh parameters per image on every call.
//
// Randomness: with a `seed` option, call k of an augmenter uses a key derived from (seed, k),
// so a pipeline replays exactly; otherwise each call takes one block of the global stream
// (`st.setSeed`). See Note [Per-iteration shuffle keys] in host-random.ts.
//
// The work is done on the host with plain loops: pipeline images are small, and a geometric
// transform is one inverse-mapped bilinear sample per output pixel.

import { DtypeError, ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { HostRandom, derivedKey, globalKey } from './host-random.js';
import { sampleBilinear } from './image-pixels.js';
import type { FillMode, HostImage } from './image-types.js';

/** What an augmenter accepts: an image or batch tensor, or an element whose xs is one. */
export type Augmentable =
  | Tensor
  | {
      /** The images, [H, W, C] or [N, H, W, C]; the element's other fields pass through. */
      xs: Tensor;
    };
/**
 * A function that transforms an element's images at random and returns an element of the same
 * form; pass it to `dataset.map()`. Each image draws its own transformation.
 */
export type Augmenter = <E extends Augmentable>(element: E) => E;

/** Options every augmenter takes. */
export interface AugmentOptions {
  /** Makes the augmenter's sequence of draws reproducible. */
  seed?: number;
}

/** Options of the augmenters that resample pixels (rotate, translate, zoom). */
export interface GeometricOptions extends AugmentOptions {
  /** Pixels sampled from outside the image: 'reflect' (default, as Keras), 'constant', 'nearest', 'wrap'. */
  fillMode?: FillMode;
  /** The value of outside pixels with fillMode 'constant' (default 0). */
  fillValue?: number;
}

/** A closed interval [lo, hi], given as a symmetric bound b (meaning [-b, b]) or explicitly. */
export type Range = number | readonly [number, number];

type ImageFn = (image: HostImage, random: HostRandom) => HostImage;

const GEOMETRIC_KEYS = ['seed', 'fillMode', 'fillValue'] as const;
const FILL_MODES: readonly FillMode[] = ['reflect', 'constant', 'nearest', 'wrap'];

function checkSeed(op: string, seed: unknown): number | undefined {
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isInteger(seed))) {
    throw new ValueError(`${op}: seed must be an integer; received ${JSON.stringify(seed)}`);
  }
  return seed as number | undefined;
}

function checkRange(op: string, name: string, value: unknown, symmetric: (b: number) => [number, number]): [number, number] {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return symmetric(value);
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isFinite(v)) && value[0] <= value[1]) {
    return [value[0], value[1]];
  }
  throw new ValueError(`${op}: ${name} must be a non-negative number or an interval [lo, hi] with lo <= hi; received ${JSON.stringify(value)}`);
}

function geometric(op: string, options: GeometricOptions): { seed: number | undefined; mode: FillMode; fillValue: number } {
  checkKeys(op, options, GEOMETRIC_KEYS);
  const { fillMode = 'reflect', fillValue = 0 } = options;
  if (!FILL_MODES.includes(fillMode)) {
    throw new ValueError(`${op}: fillMode must be one of ${FILL_MODES.map((m) => `'${m}'`).join(', ')}; received ${JSON.stringify(fillMode)}`);
  }
  if (typeof fillValue !== 'number') throw new ValueError(`${op}: fillValue must be a number; received ${JSON.stringify(fillValue)}`);
  return { seed: checkSeed(op, options.seed), mode: fillMode, fillValue };
}

/** Wraps a per-image host function into an augmenter over images, batches and `{xs}` elements. */
function augmenter(op: string, seed: number | undefined, fn: ImageFn): Augmenter {
  let calls = 0;
  const onTensor = (x: Tensor): Tensor => {
    if (x.dtype !== 'float32' && x.dtype !== 'float64') {
      throw new DtypeError(`${op}: expected a float32 or float64 image; received dtype ${x.dtype}`);
    }
    if (x.rank !== 3 && x.rank !== 4) {
      throw new ShapeError(
        `${op}: expected an image [height, width, channels] or a batch [n, height, width, channels]; received shape ${fmtShape(x.shape)}`,
      );
    }
    const random = new HostRandom(seed === undefined ? globalKey() : derivedKey(seed, calls++));
    const [n, height, width, channels] = x.rank === 3 ? [1, ...x.shape] : x.shape;
    const flat = x.dataSync() as Float32Array | Float64Array;
    const per = height * width * channels;
    const outputs: HostImage[] = [];
    for (let i = 0; i < n; i++) {
      outputs.push(fn({ height, width, channels, data: flat.subarray(i * per, (i + 1) * per) }, random));
    }
    const o = outputs[0];
    const joined = new (flat instanceof Float64Array ? Float64Array : Float32Array)(n * o.data.length);
    outputs.forEach((img, i) => joined.set(img.data, i * o.data.length));
    const shape = x.rank === 3 ? [o.height, o.width, o.channels] : [n, o.height, o.width, o.channels];
    return tensor(joined, shape, x.dtype);
  };
  return (<E extends Augmentable>(element: E): E => {
    if (element instanceof Tensor) return onTensor(element) as E;
    if (element !== null && typeof element === 'object' && (element as { xs?: unknown }).xs instanceof Tensor) {
      return { ...element, xs: onTensor(element.xs) };
    }
    throw new ValueError(`${op}: expected an image tensor or an element {xs, ...}; received ${element === null ? 'null' : typeof element}`);
  }) as Augmenter;
}

/** Every output pixel (i, j) samples the source at map(i, j) (an inverse mapping). */
function resample(image: HostImage, mode: FillMode, fillValue: number, map: (i: number, j: number) => [number, number]): HostImage {
  const { height, width, channels } = image;
  const out = new (image.data instanceof Float64Array ? Float64Array : Float32Array)(height * width * channels);
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const [y, x] = map(i, j);
      sampleBilinear(image, y, x, mode, fillValue, out, (i * width + j) * channels);
    }
  }
  return { height, width, channels, data: out };
}

const uniformIn = (random: HostRandom, [lo, hi]: [number, number]) => lo + (hi - lo) * random.uniform();

/** Mirrors each image left-right with the given probability (default 0.5). */
export function flipLeftRight(options: AugmentOptions & { probability?: number } = {}): Augmenter {
  const op = 'augment.flipLeftRight';
  checkKeys(op, options, ['seed', 'probability']);
  const { probability = 0.5 } = options;
  if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
    throw new ValueError(`${op}: probability must be in [0, 1]; received ${JSON.stringify(probability)}`);
  }
  return augmenter(op, checkSeed(op, options.seed), (image, random) => {
    if (!(random.uniform() < probability)) return image;
    const { height, width, channels, data } = image;
    const out = new (data instanceof Float64Array ? Float64Array : Float32Array)(data.length);
    for (let i = 0; i < height; i++) {
      for (let j = 0; j < width; j++) {
        const to = (i * width + j) * channels,
          from = (i * width + (width - 1 - j)) * channels;
        for (let c = 0; c < channels; c++) out[to + c] = data[from + c];
      }
    }
    return { height, width, channels, data: out };
  });
}

/**
 * Rotates each image about its centre by an angle drawn uniformly from [-maxDegrees, maxDegrees]
 * (or from [lo, hi]); positive angles turn the picture counter-clockwise, as in Keras.
 */
export function rotate(maxDegrees: Range, options: GeometricOptions = {}): Augmenter {
  const op = 'augment.rotate';
  const range = checkRange(op, 'maxDegrees', maxDegrees, (b) => [-b, b]);
  const { seed, mode, fillValue } = geometric(op, options);
  return augmenter(op, seed, (image, random) => {
    const theta = (uniformIn(random, range) * Math.PI) / 180;
    const cos = Math.cos(theta),
      sin = Math.sin(theta);
    const cy = (image.height - 1) / 2,
      cx = (image.width - 1) / 2;
    // With y pointing down, the source of output offset (dy, dx) is that offset turned by -theta.
    return resample(image, mode, fillValue, (i, j) => {
      const dy = i - cy,
        dx = j - cx;
      return [cy + sin * dx + cos * dy, cx + cos * dx - sin * dy];
    });
  });
}

/**
 * Shifts each image by fractions of its height and width drawn independently from
 * [-maxFraction, maxFraction] (or [lo, hi]); positive moves the picture down and right.
 */
export function translate(maxFraction: Range, options: GeometricOptions = {}): Augmenter {
  const op = 'augment.translate';
  const range = checkRange(op, 'maxFraction', maxFraction, (b) => [-b, b]);
  const { seed, mode, fillValue } = geometric(op, options);
  return augmenter(op, seed, (image, random) => {
    const shiftY = uniformIn(random, range) * image.height,
      shiftX = uniformIn(random, range) * image.width;
    return resample(image, mode, fillValue, (i, j) => [i - shiftY, j - shiftX]);
  });
}

/**
 * Scales each image about its centre by a factor drawn from [1 - range, 1 + range] (or from
 * [lo, hi]); a factor above 1 magnifies (zooms in), below 1 shrinks (zooms out).
 */
export function zoom(range: Range, options: GeometricOptions = {}): Augmenter {
  const op = 'augment.zoom';
  const scales = checkRange(op, 'range', range, (b) => [1 - b, 1 + b]);
  if (!(scales[0] > 0)) throw new ValueError(`${op}: zoom factors must stay positive; received range ${JSON.stringify(range)}`);
  const { seed, mode, fillValue } = geometric(op, options);
  return augmenter(op, seed, (image, random) => {
    const scale = uniformIn(random, scales);
    const cy = (image.height - 1) / 2,
      cx = (image.width - 1) / 2;
    return resample(image, mode, fillValue, (i, j) => [cy + (i - cy) / scale, cx + (j - cx) / scale]);
  });
}

/** Cuts a [height, width] window at a uniformly drawn position from each image. */
export function randomCrop(size: readonly [number, number], options: AugmentOptions = {}): Augmenter {
  const op = 'augment.randomCrop';
  if (!Array.isArray(size) || size.length !== 2 || !size.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ValueError(`${op}: size must be [height, width] with positive integers; received ${JSON.stringify(size)}`);
  }
  checkKeys(op, options, ['seed']);
  const [h, w] = size;
  return augmenter(op, checkSeed(op, options.seed), (image, random) => {
    const { height, width, channels, data } = image;
    if (h > height || w > width) {
      throw new ShapeError(`${op}: the crop [${h}, ${w}] does not fit in an image of [${height}, ${width}]`);
    }
    const top = random.index(height - h + 1),
      left = random.index(width - w + 1);
    const out = new (data instanceof Float64Array ? Float64Array : Float32Array)(h * w * channels);
    for (let i = 0; i < h; i++) {
      const from = ((top + i) * width + left) * channels;
      out.set(data.subarray(from, from + w * channels), i * w * channels);
    }
    return { height: h, width: w, channels, data: out };
  });
}

/** Adds independent normal noise of the given standard deviation to every value. */
export function gaussianNoise(stddev: number, options: AugmentOptions = {}): Augmenter {
  const op = 'augment.gaussianNoise';
  if (typeof stddev !== 'number' || !Number.isFinite(stddev) || stddev < 0) {
    throw new ValueError(`${op}: stddev must be a non-negative number; received ${JSON.stringify(stddev)}`);
  }
  checkKeys(op, options, ['seed']);
  return augmenter(op, checkSeed(op, options.seed), (image, random) => {
    const out = new (image.data instanceof Float64Array ? Float64Array : Float32Array)(image.data.length);
    for (let i = 0; i < out.length; i++) out[i] = image.data[i] + stddev * random.normal();
    return { ...image, data: out };
  });
}

/**
 * `st.data.augment.*`: random image transformations for `dataset.map()`, applied to a tensor or
 * to the `xs` of a `{xs, ys}` element, each image drawing its own transformation.
 * @namespace
 */
export const augment = {
  /** Random left-right mirroring. */
  flipLeftRight,
  /** Random rotation. */
  rotate,
  /** Random shift. */
  translate,
  /** Random zoom. */
  zoom,
  /** Random crop of a fixed size. */
  randomCrop,
  /** Additive normal noise. */
  gaussianNoise,
};
