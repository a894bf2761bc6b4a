// Keras 3's RandomErasing: a random rectangle of some images replaced by a fill value or noise.
import { ValueError, fmtValue } from '../../core/errors.js';
import { clip, greater, mul, where } from '../../ops/elementwise.js';
import { randomNormal, tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { RandomImageLayer } from './image-layer.js';

/** Options of `st.layers.randomErasing`. */
export interface RandomErasingArgs extends LayerArgs {
  /**
   * f or [lo, hi] in [0, 1]: each image draws p from [lo, hi] (f means [0, f]) and is erased with
   * probability p (Keras's rule: f = 1 erases half the images). Default 1.
   */
  factor?: number | readonly [number, number];
  /** f or [lo, hi] in [0, 1]: the erased fraction of each side is the square root of a draw from it. Default [0.02, 0.33]. */
  scale?: number | readonly [number, number];
  /** The fill: a number, one per channel, or null (default) for normal noise times the range's high end. Clipped to valueRange. */
  fillValue?: number | readonly number[] | null;
  /** The range of the values. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** A seed for reproducible draws (each training call then takes the next seed); default: the global stream. */
  seed?: number | null;
}

/** Keras's factor rule for bounds [0, 1]: f means [0, f]; a pair is sorted. */
function unitRange(layer: string, name: string, v: unknown): [number, number] {
  const inUnit = (x: unknown): x is number => typeof x === 'number' && x >= 0 && x <= 1;
  if (inUnit(v)) return [0, v];
  if (Array.isArray(v) && v.length === 2 && v.every(inUnit)) return v[0] <= v[1] ? [v[0], v[1]] : [v[1], v[0]];
  throw new ValueError(`${layer}: ${name} must be a number or a pair of numbers in [0, 1]; received ${fmtValue(v)}`);
}

/**
 * Erases a random rectangle of some images while training (Keras's RandomErasing, Zhong et al.
 * 2017): per image, side fractions sqrt(s) with s drawn from `scale`, a position uniform in what
 * is left, and pixels with x0 ≤ x < x1 and y0 ≤ y < y1 (continuous bounds, as Keras) replaced by
 * the fill; an image is erased with probability p drawn from `factor`.
 */
export class RandomErasing extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomErasing';
  /** [lo, hi] of the erasing probability. */
  readonly factor: [number, number];
  /** [lo, hi] of the erased area fraction per side, squared. */
  readonly scale: [number, number];
  /** The fill value(s), or null for noise. */
  readonly fillValue: number | number[] | null;
  /** The range of the values. */
  readonly valueRange: [number, number];

  constructor(args: RandomErasingArgs = {}) {
    super(args as RandomErasingArgs & Record<string, unknown>, ['factor', 'scale', 'fillValue', 'valueRange']);
    this.factor = unitRange(this.name, 'factor', args.factor ?? 1);
    this.scale = unitRange(this.name, 'scale', args.scale ?? [0.02, 0.33]);
    const f = args.fillValue ?? null;
    if (
      f !== null &&
      !(typeof f === 'number' && Number.isFinite(f)) &&
      !(Array.isArray(f) && f.every((v) => typeof v === 'number' && Number.isFinite(v)))
    ) {
      throw new ValueError(`${this.name}: fillValue must be a number, a list of numbers (one per channel) or null; received ${fmtValue(f)}`);
    }
    this.fillValue = f === null ? null : typeof f === 'number' ? f : [...f];
    const r = args.valueRange ?? [0, 255];
    if (!Array.isArray(r) || r.length !== 2 || !(r[0] < r[1]))
      throw new ValueError(`${this.name}: valueRange must be [low, high] with low < high; received ${fmtValue(r)}`);
    this.valueRange = [r[0], r[1]];
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const [n, h, w, c] = images.shape;
    // Per image: two scale draws (width, height), the x and y starts, the probability and its
    // threshold, then one draw that seeds the noise fill.
    const u = this.uniforms(n, 7);
    const between = ([lo, hi]: [number, number], v: number) => lo + (hi - lo) * v;
    const mask = new Float32Array(n * h * w);
    for (let b = 0; b < n; b++) {
      const d = u.subarray(7 * b, 7 * b + 7);
      if (!(d[5] < between(this.factor, d[4]))) continue;
      const cw = Math.sqrt(between(this.scale, d[0])) * w,
        ch = Math.sqrt(between(this.scale, d[1])) * h;
      const x0 = d[2] * (w - cw),
        y0 = d[3] * (h - ch);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (x >= x0 && x < x0 + cw && y >= y0 && y < y0 + ch) mask[(b * h + y) * w + x] = 1;
    }
    const [vlo, vhi] = this.valueRange;
    const f = this.fillValue;
    let fill: Tensor;
    if (f === null) {
      fill = mul(randomNormal(images.shape, { seed: Math.floor(u[6] * 2 ** 31), dtype: images.dtype }), vhi);
    } else if (typeof f === 'number') fill = tensor([f], [1], images.dtype);
    else {
      if (f.length !== c) throw new ValueError(`${this.name}: fillValue has ${f.length} values; the images have ${c} channels`);
      fill = tensor(f, [c], images.dtype);
    }
    const erased = where(greater(tensor(mask, [n, h, w, 1], images.dtype), 0), clip(fill, vlo, vhi), images);
    return this.fromBatch(erased, single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, scale: this.scale, fillValue: this.fillValue, valueRange: this.valueRange, seed: this.seed };
  }
}

registerLayer('RandomErasing', (c) => new RandomErasing(c as RandomErasingArgs));
