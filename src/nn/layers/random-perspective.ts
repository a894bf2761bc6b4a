// Keras 3's RandomPerspective, on st.image.perspectiveTransform (the homography solved on the host).
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { greater, where } from '../../ops/elementwise.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { INTERPOLATIONS, type Interpolation } from '../image-sampling.js';
import { perspectiveTransform } from '../image/warp.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { RandomImageLayer, between } from './image-layer.js';

/** Options of `st.layers.randomPerspective`. */
export interface RandomPerspectiveArgs extends LayerArgs {
  /** f or [lo, hi] in [0, 1]: each image draws p from [lo, hi] (f means [0, f]) and is warped with probability p. Default 1. */
  factor?: number | readonly [number, number];
  /** In [0, 1]: each corner coordinate moves by up to ±scale/2 of itself. Default 1. */
  scale?: number;
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** The value of pixels that come from outside the image. Default 0. */
  fillValue?: number;
  /** A seed for reproducible draws (each training call then takes the next seed); default: the global stream. */
  seed?: number | null;
}

/** The image corners (x, y) in Keras's order: top-left, top-right, bottom-left, bottom-right. */
export const corners = (h: number, w: number): number[][] => [
  [0, 0],
  [w - 1, 0],
  [0, h - 1],
  [w - 1, h - 1],
];

/**
 * Warps some images by a random perspective while training (Keras 3.16's RandomPerspective): per
 * image a probability p from `factor` and a threshold u (warped when u < p), and eight factors f
 * from [−scale/2, scale/2]; each corner coordinate c moves to c + c·f (Keras's rule, so the
 * top-left corner stays), and the image is resampled by the homography taking the moved corners
 * to the original ones, pixels from outside reading fillValue. Draws per image: p, u, then f for
 * the four corners' (x, y).
 */
export class RandomPerspective extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomPerspective';
  /** [lo, hi] of the warp probability. */
  readonly factor: [number, number];
  /** The largest relative corner move, times 2. */
  readonly scale: number;
  /** 'bilinear' or 'nearest'. */
  readonly interpolation: Interpolation;
  /** The value of outside pixels. */
  readonly fillValue: number;

  constructor(args: RandomPerspectiveArgs = {}) {
    super(args as RandomPerspectiveArgs & Record<string, unknown>, ['factor', 'scale', 'interpolation', 'fillValue']);
    const f = args.factor ?? 1;
    let r: [number, number] | null = null;
    if (typeof f === 'number' && Number.isFinite(f)) r = [0, Math.abs(f)];
    else if (Array.isArray(f) && f.length === 2 && f.every((x) => typeof x === 'number' && Number.isFinite(x)))
      r = f[0] <= f[1] ? [f[0], f[1]] : [f[1], f[0]];
    if (!r || r[0] < 0 || r[1] > 1)
      throw new ValueError(`${this.name}: factor must be a number or a pair of numbers in [0, 1]; received ${fmtValue(args.factor)}`);
    this.factor = r;
    const scale = args.scale ?? 1;
    if (typeof scale !== 'number' || !(scale >= 0 && scale <= 1))
      throw new ValueError(`${this.name}: scale must be a number in [0, 1]; received ${fmtValue(args.scale)}`);
    this.scale = scale;
    this.interpolation = checkOneOf(this.name, 'interpolation', args.interpolation ?? 'bilinear', INTERPOLATIONS);
    const fill = args.fillValue ?? 0;
    if (typeof fill !== 'number' || !Number.isFinite(fill))
      throw new ValueError(`${this.name}: fillValue must be a finite number; received ${fmtValue(args.fillValue)}`);
    this.fillValue = fill;
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const [n, h, w] = images.shape;
    const u = this.uniforms(n, 10);
    const start = corners(h, w);
    const apply: number[] = [],
      starts: number[][][] = [],
      ends: number[][][] = [];
    for (let b = 0; b < n; b++) {
      const d = u.subarray(10 * b, 10 * b + 10);
      const warped = d[1] < between(this.factor, d[0]);
      apply.push(warped ? 1 : 0);
      starts.push(start);
      ends.push(start.map(([x, y], k) => (warped ? [x + x * this.scale * (d[2 + 2 * k] - 0.5), y + y * this.scale * (d[3 + 2 * k] - 0.5)] : [x, y])));
    }
    if (!apply.some((a) => a)) return this.fromBatch(images, single);
    const warped = perspectiveTransform(images, starts, ends, { interpolation: this.interpolation, fillValue: this.fillValue });
    const mask = tensor(apply, [n, 1, 1, 1], images.dtype);
    return this.fromBatch(where(greater(mask, 0), warped, images), single);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      factor: this.factor,
      scale: this.scale,
      interpolation: this.interpolation,
      fillValue: this.fillValue,
      seed: this.seed,
    };
  }
}

registerLayer('RandomPerspective', (c) => new RandomPerspective(c as RandomPerspectiveArgs));
