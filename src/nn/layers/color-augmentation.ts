// Keras 3's value-changing image layers: RandomBrightness, RandomInvert, Solarization,
// RandomGrayscale, RandomColorDegeneration, RandomPosterization and RandomSharpness (random, active while training,
// one draw per image) and AutoContrast
// (deterministic, always applied). Images [H, W, C] or [N, H, W, C], channels last, with values in
// `valueRange` (Keras's default [0, 255]).
import { ValueError, fmtValue } from '../../core/errors.js';
import { add, clip, div, floor, greater, less, mul, sub, where } from '../../ops/elementwise.js';
import { depthwiseConv2d } from '../../ops/conv-extra.js';
import { trunc } from '../../ops/numpy-extra.js';
import { tile } from '../../ops/shape-ops.js';
import { max, min, sum } from '../../ops/reduction.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { ImageLayer, RandomImageLayer } from './image-layer.js';

/** A value range [low, high] as Keras takes it (sorted). */
function valueRange(layer: string, v: unknown): [number, number] {
  const r = v ?? [0, 255];
  if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number' && Number.isFinite(x)) || r[0] === r[1]) {
    throw new ValueError(`${layer}: valueRange must be two different finite numbers [low, high]; received ${fmtValue(v)}`);
  }
  return r[0] < r[1] ? [r[0], r[1]] : [r[1], r[0]];
}

/**
 * Keras's factor rule (BaseImagePreprocessingLayer._set_factor): a number f in [lo, hi] gives
 * [max(−f, lo), f]; a pair [a, b] is sorted and must overlap [lo, hi].
 */
function kerasFactor(layer: string, name: string, f: unknown, bounds: [number, number]): [number, number] {
  const bad = () =>
    new ValueError(`${layer}: ${name} must be a number or a pair of numbers in [${bounds[0]}, ${bounds[1]}]; received ${fmtValue(f)}`);
  if (typeof f === 'number') {
    if (!(f >= bounds[0] && f <= bounds[1])) throw bad();
    const a = Math.abs(f);
    return [Math.max(-a, bounds[0]), a];
  }
  if (Array.isArray(f) && f.length === 2 && f.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    const [lo, hi] = f[0] <= f[1] ? [f[0], f[1]] : [f[1], f[0]];
    if (lo > bounds[1] || hi < bounds[0]) throw bad();
    return [lo, hi];
  }
  throw bad();
}

/** One value per image as an [N, 1, 1, 1] tensor that broadcasts over the image. */
const perImage = (values: ArrayLike<number>, dtype: Tensor['dtype']) => tensor(Float64Array.from(values), [values.length, 1, 1, 1], dtype);

/** Options of `st.layers.randomBrightness`. */
export interface RandomBrightnessArgs extends LayerArgs {
  /** f or [lo, hi] in [−1, 1]: each image gets delta · (high − low) added, delta drawn from [lo, hi] (f means [−f, f]). */
  factor: number | readonly [number, number];
  /** The range of the values; outputs are clipped to it. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** A seed for reproducible draws (each training call then takes the next seed); default: the global stream. */
  seed?: number | null;
}

/** Adds a random brightness delta to each image while training, clipped to valueRange (Keras's RandomBrightness). */
export class RandomBrightness extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomBrightness';
  /** [lo, hi] of the delta, as a fraction of the value range. */
  readonly factor: [number, number];
  /** The range of the values. */
  readonly valueRange: [number, number];

  constructor(args: RandomBrightnessArgs) {
    super(args as RandomBrightnessArgs & Record<string, unknown>, ['factor', 'valueRange']);
    this.factor = kerasFactor(this.name, 'factor', args.factor, [-1, 1]);
    this.valueRange = valueRange(this.name, args.valueRange);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const [lo, hi] = this.factor,
      [vlo, vhi] = this.valueRange;
    const u = this.uniforms(images.shape[0], 1);
    const delta = perImage(
      Array.from(u, (v) => (lo + (hi - lo) * v) * (vhi - vlo)),
      images.dtype,
    );
    return this.fromBatch(clip(add(images, delta), vlo, vhi), single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, valueRange: this.valueRange, seed: this.seed };
  }
}

/** Options of `st.layers.randomInvert`. */
export interface RandomInvertArgs extends LayerArgs {
  /**
   * f or [lo, hi] in [0, 1]: each image draws p from [lo, hi] (f means [0, f]) and is inverted with
   * probability p (Keras's rule, so f = 1 inverts half the images). Default 1.
   */
  factor?: number | readonly [number, number];
  /** The range of the values: inverted values are high − x. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** A seed for reproducible draws; default: the global stream. */
  seed?: number | null;
}

/** Replaces some images by high − x while training (Keras's RandomInvert). */
export class RandomInvert extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomInvert';
  /** [lo, hi] of the inversion probability. */
  readonly factor: [number, number];
  /** The range of the values. */
  readonly valueRange: [number, number];

  constructor(args: RandomInvertArgs = {}) {
    super(args as RandomInvertArgs & Record<string, unknown>, ['factor', 'valueRange']);
    this.factor = kerasFactor(this.name, 'factor', args.factor ?? 1, [0, 1]);
    this.valueRange = valueRange(this.name, args.valueRange);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const [lo, hi] = this.factor;
    const n = images.shape[0];
    const u = this.uniforms(n, 2); // per image: the probability, then the threshold it must exceed
    const invert = perImage(
      Array.from({ length: n }, (_, i) => (u[2 * i + 1] < lo + (hi - lo) * u[2 * i] ? 1 : 0)),
      images.dtype,
    );
    return this.fromBatch(where(greater(invert, 0), sub(this.valueRange[1], images), images), single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, valueRange: this.valueRange, seed: this.seed };
  }
}

/** Options of `st.layers.solarization`. */
export interface SolarizationArgs extends LayerArgs {
  /** f or [lo, hi] in [0, 1]: an amount added before solarizing, drawn from [lo, hi·255] on the 0..255 scale (f means [0, f]). Default 0. */
  additionFactor?: number | readonly [number, number];
  /** f or [lo, hi] in [0, 1]: values at or above a threshold drawn from [lo, hi·255] (0..255 scale) are inverted. Default 0 (all). */
  thresholdFactor?: number | readonly [number, number];
  /** The range of the values. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** A seed for reproducible draws; default: the global stream. */
  seed?: number | null;
}

/**
 * Solarizes images while training (Keras's Solarization): on the 0..255 scale, x + addition is
 * clipped to [0, 255] and values at or above the threshold become 255 − x; one addition and one
 * threshold per image. (Keras draws both from [lo, hi · 255]: the lower bound is not scaled.)
 */
export class Solarization extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Solarization';
  /** [lo, hi] of the addition. */
  readonly additionFactor: [number, number];
  /** [lo, hi] of the threshold. */
  readonly thresholdFactor: [number, number];
  /** The range of the values. */
  readonly valueRange: [number, number];

  constructor(args: SolarizationArgs = {}) {
    super(args as SolarizationArgs & Record<string, unknown>, ['additionFactor', 'thresholdFactor', 'valueRange']);
    // Keras's own rule here: a number f means [0, f].
    const factor = (name: string, v: unknown): [number, number] => {
      const range = kerasFactor(this.name, name, typeof v === 'number' ? [0, v] : (v ?? [0, 0]), [0, 1]);
      if (range.some((f) => f < 0 || f > 1))
        throw new ValueError(`${this.name}: ${name} must be a number or a pair of numbers in [0, 1]; received ${fmtValue(v)}`);
      return range;
    };
    this.additionFactor = factor('additionFactor', args.additionFactor);
    this.thresholdFactor = factor('thresholdFactor', args.thresholdFactor);
    this.valueRange = valueRange(this.name, args.valueRange);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const n = images.shape[0];
    const u = this.uniforms(n, 2);
    const draw = ([lo, hi]: [number, number], v: number) => lo + (hi * 255 - lo) * v;
    const additions = perImage(
      Array.from({ length: n }, (_, i) => draw(this.additionFactor, u[2 * i])),
      images.dtype,
    );
    const thresholds = perImage(
      Array.from({ length: n }, (_, i) => draw(this.thresholdFactor, u[2 * i + 1])),
      images.dtype,
    );
    const [vlo, vhi] = this.valueRange;
    const scaled = mul(sub(images, vlo), 255 / (vhi - vlo));
    const shifted = clip(add(scaled, additions), 0, 255);
    const solarized = where(less(shifted, thresholds), shifted, sub(255, shifted));
    return this.fromBatch(add(mul(solarized, (vhi - vlo) / 255), vlo), single);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      additionFactor: this.additionFactor,
      thresholdFactor: this.thresholdFactor,
      valueRange: this.valueRange,
      seed: this.seed,
    };
  }
}

/** Options of `st.layers.randomGrayscale`. */
export interface RandomGrayscaleArgs extends LayerArgs {
  /** The probability that an image is turned gray, in [0, 1]. Default 0.5. */
  factor?: number;
  /** A seed for reproducible draws; default: the global stream. */
  seed?: number | null;
}

/** ITU-R 601 luma weights, as tf.image.rgb_to_grayscale and Keras use. */
const LUMA = [0.2989, 0.587, 0.114];

/**
 * Turns images gray with probability `factor` while training (Keras's RandomGrayscale): the luma
 * 0.2989 R + 0.587 G + 0.114 B in all three channels. (Keras's layer also acts at inference; here,
 * as every Strata augmentation layer, only while training.)
 */
export class RandomGrayscale extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomGrayscale';
  /** The probability of turning an image gray. */
  readonly factor: number;

  constructor(args: RandomGrayscaleArgs = {}) {
    super(args as RandomGrayscaleArgs & Record<string, unknown>, ['factor']);
    const f = args.factor ?? 0.5;
    if (typeof f !== 'number' || !(f >= 0 && f <= 1))
      throw new ValueError(`${this.name}: factor must be a number in [0, 1]; received ${fmtValue(f)}`);
    this.factor = f;
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const [n, , , c] = images.shape;
    if (c !== 3) throw new ValueError(`${this.name}: expects RGB images (3 channels); received ${c}`);
    const u = this.uniforms(n, 1);
    const gray = sum(mul(images, tensor(LUMA, [1, 1, 1, 3], images.dtype)), -1, true);
    const apply = perImage(
      Array.from(u, (v) => (v < this.factor ? 1 : 0)),
      images.dtype,
    );
    return this.fromBatch(where(greater(apply, 0), gray, images), single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, seed: this.seed };
  }
}

/** Options of `st.layers.randomColorDegeneration`. */
export interface RandomColorDegenerationArgs extends LayerArgs {
  /**
   * f or [lo, hi] in [−1, 1]: each image moves toward its grayscale version by a fraction drawn
   * from [lo, hi] (f means [−f, f]; negative fractions saturate).
   */
  factor: number | readonly [number, number];
  /** The range of the values; outputs are clipped to it. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** A seed for reproducible draws; default: the global stream. */
  seed?: number | null;
}

/** x + f · (gray(x) − x) per image while training, clipped (Keras's RandomColorDegeneration). */
export class RandomColorDegeneration extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomColorDegeneration';
  /** [lo, hi] of the blending fraction. */
  readonly factor: [number, number];
  /** The range of the values. */
  readonly valueRange: [number, number];

  constructor(args: RandomColorDegenerationArgs) {
    super(args as RandomColorDegenerationArgs & Record<string, unknown>, ['factor', 'valueRange']);
    this.factor = kerasFactor(this.name, 'factor', args.factor, [-1, 1]);
    this.valueRange = valueRange(this.name, args.valueRange);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const c = images.shape[3];
    if (c !== 3) throw new ValueError(`${this.name}: expects RGB images (3 channels); received ${c}`);
    const [lo, hi] = this.factor;
    const f = perImage(
      Array.from(this.uniforms(images.shape[0], 1), (u) => lo + (hi - lo) * u),
      images.dtype,
    );
    const gray = sum(mul(images, tensor(LUMA, [1, 1, 1, 3], images.dtype)), -1, true);
    return this.fromBatch(clip(add(images, mul(f, sub(gray, images))), this.valueRange[0], this.valueRange[1]), single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, valueRange: this.valueRange, seed: this.seed };
  }
}

/** Options of `st.layers.randomPosterization`. */
export interface RandomPosterizationArgs extends LayerArgs {
  /** The bits kept per channel, 1 to 8: b, or [lo, hi] to draw an integer from [lo, hi) per image (Keras's randint). */
  factor: number | readonly [number, number];
  /** The range of the values. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** A seed for reproducible draws; default: the global stream. */
  seed?: number | null;
}

/**
 * Keeps the top b bits of each 8-bit value while training (Keras's RandomPosterization): on the
 * 0..255 scale, x truncated to an integer then floor(x / 2^(8−b)) · 2^(8−b).
 */
export class RandomPosterization extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomPosterization';
  /** [lo, hi] of the bits kept. */
  readonly factor: [number, number];
  /** The range of the values. */
  readonly valueRange: [number, number];

  constructor(args: RandomPosterizationArgs) {
    super(args as RandomPosterizationArgs & Record<string, unknown>, ['factor', 'valueRange']);
    this.factor = kerasFactor(this.name, 'factor', args.factor, [1, 8]);
    if (!this.factor.every((b) => Number.isInteger(b) && b >= 1 && b <= 8)) {
      throw new ValueError(`${this.name}: factor must be whole numbers of bits in [1, 8]; received ${fmtValue(args.factor)}`);
    }
    this.valueRange = valueRange(this.name, args.valueRange);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const [lo, hi] = this.factor;
    const n = images.shape[0];
    const u = lo === hi ? null : this.uniforms(n, 1);
    const step = perImage(
      Array.from({ length: n }, (_, i) => 2 ** (8 - (u ? lo + Math.floor(u[i] * (hi - lo)) : lo))),
      images.dtype,
    );
    const [vlo, vhi] = this.valueRange;
    const bytes = trunc(mul(sub(images, vlo), 255 / (vhi - vlo)));
    const kept = mul(floor(div(bytes, step)), step);
    return this.fromBatch(add(mul(kept, (vhi - vlo) / 255), vlo), single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, valueRange: this.valueRange, seed: this.seed };
  }
}

/** Options of `st.layers.randomSharpness`. */
export interface RandomSharpnessArgs extends LayerArgs {
  /**
   * f or [lo, hi] in [0, 1]: per image s = 2·(a draw from [lo, hi]) (f means [0, f]); s = 0 gives
   * the smoothed image, 1 the original, 2 a sharpened one.
   */
  factor: number | readonly [number, number];
  /** The range of the values; outputs are clipped to it. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** A seed for reproducible draws; default: the global stream. */
  seed?: number | null;
}

/** Keras's smoothing kernel: 1/13 around, 5/13 at the centre. */
const SMOOTH = [1, 1, 1, 1, 5, 1, 1, 1, 1].map((v) => v / 13);

/**
 * Sharpens or blurs images while training (Keras's RandomSharpness): x + (1 − s)·(smooth(x) − x),
 * smooth a 3x3 depthwise convolution with zero padding ('same'), clipped to valueRange.
 */
export class RandomSharpness extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomSharpness';
  /** [lo, hi] of the factor. */
  readonly factor: [number, number];
  /** The range of the values. */
  readonly valueRange: [number, number];

  constructor(args: RandomSharpnessArgs) {
    super(args as RandomSharpnessArgs & Record<string, unknown>, ['factor', 'valueRange']);
    this.factor = kerasFactor(this.name, 'factor', args.factor, [0, 1]);
    this.valueRange = valueRange(this.name, args.valueRange);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const [lo, hi] = this.factor;
    const c = images.shape[3];
    const keep = perImage(
      Array.from(this.uniforms(images.shape[0], 1), (u) => 1 - 2 * (lo + (hi - lo) * u)),
      images.dtype,
    );
    const kernel = tile(tensor(SMOOTH, [3, 3, 1, 1], images.dtype), [1, 1, c, 1]);
    const smoothed = depthwiseConv2d(images, kernel, { padding: 'same' });
    return this.fromBatch(clip(add(images, mul(keep, sub(smoothed, images))), this.valueRange[0], this.valueRange[1]), single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, valueRange: this.valueRange, seed: this.seed };
  }
}

/** Options of `st.layers.autoContrast`. */
export interface AutoContrastArgs extends LayerArgs {
  /** The range of the values. Default [0, 255]. */
  valueRange?: readonly [number, number];
}

/**
 * Stretches each channel of each image to the whole value range (Keras's AutoContrast):
 * (x − min) / (max − min) · (high − low) + low, with the channel's min and max over the image. A
 * constant channel is left as it is. Deterministic, so applied at inference too, as in Keras.
 */
export class AutoContrast extends ImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AutoContrast';
  /** The range of the values. */
  readonly valueRange: [number, number];

  constructor(args: AutoContrastArgs = {}) {
    super(args as AutoContrastArgs & Record<string, unknown>, ['valueRange']);
    this.valueRange = valueRange(this.name, args.valueRange);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    const lo = min(images, [1, 2], true),
      hi = max(images, [1, 2], true);
    const spread = sub(hi, lo);
    const flat = greater(spread, 0);
    const [vlo, vhi] = this.valueRange;
    const stretched = add(mul(div(sub(images, lo), where(flat, spread, 1)), vhi - vlo), vlo);
    return this.fromBatch(where(flat, clip(stretched, vlo, vhi), images), single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), valueRange: this.valueRange };
  }
}

registerLayer('RandomBrightness', (c) => new RandomBrightness(c as unknown as RandomBrightnessArgs));
registerLayer('RandomInvert', (c) => new RandomInvert(c as RandomInvertArgs));
registerLayer('Solarization', (c) => new Solarization(c as SolarizationArgs));
registerLayer('RandomGrayscale', (c) => new RandomGrayscale(c as RandomGrayscaleArgs));
registerLayer('RandomColorDegeneration', (c) => new RandomColorDegeneration(c as unknown as RandomColorDegenerationArgs));
registerLayer('RandomPosterization', (c) => new RandomPosterization(c as unknown as RandomPosterizationArgs));
registerLayer('RandomSharpness', (c) => new RandomSharpness(c as unknown as RandomSharpnessArgs));
registerLayer('AutoContrast', (c) => new AutoContrast(c as AutoContrastArgs));
