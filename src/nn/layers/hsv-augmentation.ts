// Keras 3's colour augmentations that work in HSV or chain several adjustments: RandomHue,
// RandomSaturation and RandomColorJitter (brightness, contrast, saturation, hue in Keras's order).
// Active only while training, one set of draws per image from the layer's stream (seed + k at the
// k-th training call, or the global stream). Images [H, W, C] or [N, H, W, C], channels last, RGB,
// with values in `valueRange` (Keras's default [0, 255]).
import { ValueError, fmtValue } from '../../core/errors.js';
import { add, clip, mul, sub } from '../../ops/elementwise.js';
import { mean } from '../../ops/reduction.js';
import { concat, split } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { hsvToRgb, rgbToHsv } from '../image/color.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { RandomImageLayer, between, type Bounds } from './image-layer.js';

/** Keras's backend epsilon, used by RandomSaturation's factor mapping. */
const EPSILON = 1e-7;

/** A value range [low, high] (sorted), Keras's default [0, 255]. */
function valueRangeOf(layer: string, v: unknown): Bounds {
  const r = v ?? [0, 255];
  if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number' && Number.isFinite(x)) || r[0] === r[1]) {
    throw new ValueError(`${layer}: valueRange must be two different finite numbers [low, high]; received ${fmtValue(v)}`);
  }
  return r[0] < r[1] ? [r[0], r[1]] : [r[1], r[0]];
}

/**
 * A factor range inside `bounds`: a number f gives [max(−f, low bound), f] (Keras's _set_factor),
 * a pair is sorted and must lie inside the bounds.
 */
function factorIn(layer: string, name: string, f: unknown, bounds: Bounds): Bounds {
  const bad = () =>
    new ValueError(`${layer}: ${name} must be a number or a pair of numbers in [${bounds[0]}, ${bounds[1]}]; received ${fmtValue(f)}`);
  let r: Bounds;
  if (typeof f === 'number' && Number.isFinite(f)) r = [Math.max(-Math.abs(f), bounds[0]), Math.abs(f)];
  else if (Array.isArray(f) && f.length === 2 && f.every((x) => typeof x === 'number' && Number.isFinite(x)))
    r = f[0] <= f[1] ? [f[0], f[1]] : [f[1], f[0]];
  else throw bad();
  if (r[0] < bounds[0] || r[1] > bounds[1]) throw bad();
  return r;
}

/** Per-image values as [N, 1, 1, k] (k values per image, broadcast over the pixels). */
const perImage = (values: readonly number[][], dtype: Tensor['dtype']) =>
  tensor(Float64Array.from(values.flat()), [values.length, 1, 1, values[0].length], dtype);

function checkRgb(layer: string, images: Tensor): void {
  const c = images.shape[3];
  if (c !== 3) throw new ValueError(`${layer}: expects RGB images (3 channels); received ${c}`);
}

/** Images in `range` mapped to [0, 1], and back (Keras's _transform_value_range). */
const toUnit = (x: Tensor, [lo, hi]: Bounds) => mul(sub(x, lo), 1 / (hi - lo));
const fromUnit = (x: Tensor, [lo, hi]: Bounds) => add(mul(x, hi - lo), lo);

/** The hue shift of each image: ±f/2, the sign negative when the first draw exceeds 0.5 (Keras's RandomHue). */
function hueShifts([lo, hi]: Bounds, signDraws: ArrayLike<number>, factorDraws: ArrayLike<number>): number[] {
  return Array.from(signDraws, (s, i) => (s > 0.5 ? -1 : 1) * between([lo, hi], factorDraws[i]) * 0.5);
}

/** Shifts the hue of images with values in [0, 1] (hue wraps around; RGB clipped to [0, 1]). */
function shiftHue(unit: Tensor, shifts: number[]): Tensor {
  const hsv = rgbToHsv(unit);
  // hsvToRgb takes the hue modulo 1, which is Keras's "h − 1 above 1, h + 1 below 0" for |shift| ≤ 1/2.
  const shifted = add(
    hsv,
    perImage(
      shifts.map((s) => [s, 0, 0]),
      unit.dtype,
    ),
  );
  return clip(hsvToRgb(shifted), 0, 1);
}

/** RandomSaturation's multiplier for a draw d: d / (1 − d + ε), so 0.5 keeps, 0 greys, 1 saturates fully. */
const saturationMultiplier = (d: number) => d / (1 - d + EPSILON);

/** Multiplies the saturation of images in [0, 1] by a per-image factor, clipping it to [0, 1]. */
function scaleSaturation(unit: Tensor, factors: number[]): Tensor {
  const [h, s, v] = split(rgbToHsv(unit), 3, -1);
  const scaled = clip(
    mul(
      s,
      perImage(
        factors.map((f) => [f]),
        unit.dtype,
      ),
    ),
    0,
    1,
  );
  return hsvToRgb(concat([h, scaled, v], -1));
}

/** RandomSaturation's factor rule as followed here (see RandomSaturation). */
const saturationFactor = (layer: string, name: string, f: unknown) => factorIn(layer, name, f, [0, 1]);

/** Options of `st.layers.randomHue`. */
export interface RandomHueArgs extends LayerArgs {
  /** f or [lo, hi] in [0, 1]: each image's hue turns by ±d/2 of a full turn, d drawn from [lo, hi] (f means [0, f]). */
  factor: number | readonly [number, number];
  /** The range of the values. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** A seed for reproducible draws (each training call then takes the next seed); default: the global stream. */
  seed?: number | null;
}

/**
 * Turns the hue of each image by a random amount while training (Keras 3.16's RandomHue): two
 * draws per image, a sign (negative when the draw exceeds 0.5) and d from [lo, hi]; the hue moves
 * by sign · d / 2 and wraps around; the RGB result is clipped to the value range.
 */
export class RandomHue extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomHue';
  /** [lo, hi] of d. */
  readonly factor: Bounds;
  /** The range of the values. */
  readonly valueRange: Bounds;

  constructor(args: RandomHueArgs) {
    super(args as RandomHueArgs & Record<string, unknown>, ['factor', 'valueRange']);
    this.factor = factorIn(this.name, 'factor', args.factor, [0, 1]);
    this.valueRange = valueRangeOf(this.name, args.valueRange);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    checkRgb(this.name, images);
    const n = images.shape[0];
    const u = this.uniforms(n, 2);
    const shifts = hueShifts(
      this.factor,
      Array.from({ length: n }, (_, i) => u[2 * i]),
      Array.from({ length: n }, (_, i) => u[2 * i + 1]),
    );
    return this.fromBatch(fromUnit(shiftHue(toUnit(images, this.valueRange), shifts), this.valueRange), single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, valueRange: this.valueRange, seed: this.seed };
  }
}

/** Options of `st.layers.randomSaturation`. */
export interface RandomSaturationArgs extends LayerArgs {
  /**
   * f or [lo, hi] in [0, 1]: d is drawn per image from [lo, hi] (f means [0, f]) and the saturation
   * multiplied by d / (1 − d): 0.5 leaves an image as it is, 0 makes it grey, 1 fully saturated.
   */
  factor: number | readonly [number, number];
  /** The range of the values. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** A seed for reproducible draws; default: the global stream. */
  seed?: number | null;
}

/**
 * Scales the saturation of each image by a random amount while training (Keras 3.16's
 * RandomSaturation): S ← clip(S · d/(1 − d + 1e-7), 0, 1) in HSV, d drawn per image.
 *
 * The factor rule followed is Keras's documented one — a number f means [0, f], values in [0, 1] —
 * not what its source does: the class keeps the base layer's bounds [−1, 1], so a number f there
 * becomes [−f, f], half the draws give negative multipliers and those images turn grey, against
 * the docstring. Keras clips S to `value_range` (so to [0, 255] by default, letting S exceed 1 and
 * RGB go negative); here S is clipped to [0, 1], which is Keras's result whenever it is
 * meaningful. The images are mapped to [0, 1] before the HSV round trip and back after (the same
 * as Keras's for a range starting at 0, since H and S do not depend on the scale).
 */
export class RandomSaturation extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomSaturation';
  /** [lo, hi] of d. */
  readonly factor: Bounds;
  /** The range of the values. */
  readonly valueRange: Bounds;

  constructor(args: RandomSaturationArgs) {
    super(args as RandomSaturationArgs & Record<string, unknown>, ['factor', 'valueRange']);
    this.factor = saturationFactor(this.name, 'factor', args.factor);
    this.valueRange = valueRangeOf(this.name, args.valueRange);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    checkRgb(this.name, images);
    const factors = Array.from(this.uniforms(images.shape[0], 1), (u) => saturationMultiplier(between(this.factor, u)));
    return this.fromBatch(fromUnit(scaleSaturation(toUnit(images, this.valueRange), factors), this.valueRange), single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, valueRange: this.valueRange, seed: this.seed };
  }
}

/** Options of `st.layers.randomColorJitter`; each factor left out skips that adjustment. */
export interface RandomColorJitterArgs extends LayerArgs {
  /** The range of the values. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** As randomBrightness's factor: f or [lo, hi] in [−1, 1], a delta of d · (high − low). */
  brightnessFactor?: number | readonly [number, number] | null;
  /** As randomContrast's factor: b or [lo, hi] in [0, 1], a contrast factor from [1 − lo, 1 + hi]. */
  contrastFactor?: number | readonly [number, number] | null;
  /** As randomSaturation's factor: f or [lo, hi] in [0, 1]. */
  saturationFactor?: number | readonly [number, number] | null;
  /** As randomHue's factor: f or [lo, hi] in [0, 1]. */
  hueFactor?: number | readonly [number, number] | null;
  /** A seed for reproducible draws; default: the global stream. */
  seed?: number | null;
}

/**
 * Keras 3.16's RandomColorJitter: while training, RandomBrightness, RandomContrast,
 * RandomSaturation and RandomHue in that order, each with its own definition (see those layers),
 * skipping the ones whose factor is not given. Five draws per image from the layer's stream:
 * brightness, contrast, saturation, hue sign, hue amount.
 */
export class RandomColorJitter extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomColorJitter';
  /** The range of the values. */
  readonly valueRange: Bounds;
  /** [lo, hi] of the brightness delta (a fraction of the value range), or null. */
  readonly brightnessFactor: Bounds | null;
  /** [lo, hi] as given to RandomContrast (factors from [1 − lo, 1 + hi]), or null. */
  readonly contrastFactor: Bounds | null;
  /** [lo, hi] of RandomSaturation's d, or null. */
  readonly saturationFactor: Bounds | null;
  /** [lo, hi] of RandomHue's d, or null. */
  readonly hueFactor: Bounds | null;

  constructor(args: RandomColorJitterArgs = {}) {
    super(args as RandomColorJitterArgs & Record<string, unknown>, [
      'valueRange',
      'brightnessFactor',
      'contrastFactor',
      'saturationFactor',
      'hueFactor',
    ]);
    const given = (v: unknown) => v !== undefined && v !== null;
    this.valueRange = valueRangeOf(this.name, args.valueRange);
    this.brightnessFactor = given(args.brightnessFactor) ? factorIn(this.name, 'brightnessFactor', args.brightnessFactor, [-1, 1]) : null;
    // RandomContrast's rule: a number b means [b, b] (factors from [1 − b, 1 + b]).
    const c = args.contrastFactor;
    this.contrastFactor = given(c)
      ? typeof c === 'number'
        ? factorIn(this.name, 'contrastFactor', [c, c], [0, 1])
        : factorIn(this.name, 'contrastFactor', c, [0, 1])
      : null;
    this.saturationFactor = given(args.saturationFactor) ? saturationFactor(this.name, 'saturationFactor', args.saturationFactor) : null;
    this.hueFactor = given(args.hueFactor) ? factorIn(this.name, 'hueFactor', args.hueFactor, [0, 1]) : null;
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const n = images.shape[0];
    const u = this.uniforms(n, 5);
    const draw = (k: number) => Array.from({ length: n }, (_, i) => u[5 * i + k]);
    const vr = this.valueRange;
    let x = images;
    if (this.brightnessFactor) {
      const deltas = draw(0).map((d) => [between(this.brightnessFactor as Bounds, d) * (vr[1] - vr[0])]);
      x = clip(add(x, perImage(deltas, x.dtype)), vr[0], vr[1]);
    }
    if (this.contrastFactor) {
      const [lo, hi] = this.contrastFactor;
      const factors = draw(1).map((d) => [between([1 - lo, 1 + hi], d)]);
      const centre = mean(x, [1, 2], true);
      x = clip(add(mul(sub(x, centre), perImage(factors, x.dtype)), centre), vr[0], vr[1]);
    }
    if (this.saturationFactor || this.hueFactor) checkRgb(this.name, x);
    if (this.saturationFactor) {
      const factors = draw(2).map((d) => saturationMultiplier(between(this.saturationFactor as Bounds, d)));
      x = fromUnit(scaleSaturation(toUnit(x, vr), factors), vr);
    }
    if (this.hueFactor) x = fromUnit(shiftHue(toUnit(x, vr), hueShifts(this.hueFactor, draw(3), draw(4))), vr);
    return this.fromBatch(x, single);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      valueRange: this.valueRange,
      brightnessFactor: this.brightnessFactor,
      contrastFactor: this.contrastFactor,
      saturationFactor: this.saturationFactor,
      hueFactor: this.hueFactor,
      seed: this.seed,
    };
  }
}

registerLayer('RandomHue', (c) => new RandomHue(c as unknown as RandomHueArgs));
registerLayer('RandomSaturation', (c) => new RandomSaturation(c as unknown as RandomSaturationArgs));
registerLayer('RandomColorJitter', (c) => new RandomColorJitter(c as RandomColorJitterArgs));
