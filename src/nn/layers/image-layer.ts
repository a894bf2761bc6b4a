// Shared plumbing of the image preprocessing and augmentation layers: option checks, images
// given one at a time ([H, W, C], as Keras accepts) or batched ([N, H, W, C]), and the random
// stream of the augmentation layers.

import type { DType } from '../../core/dtype.js';
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { cast } from '../../ops/elementwise.js';
import { reshape } from '../../ops/shape-ops.js';
import { randomUniform } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { FILL_MODES, INTERPOLATIONS, type FillMode, type Interpolation, type SampleOptions } from '../image-sampling.js';
import { Layer, singleShape, type LayerArgs } from '../layer.js';
import { formatShape, type Shape } from '../symbolic.js';

/**
 * A range of a random factor: a bound b meaning [-b, b] (or what the layer says), or [lo, hi].
 * @inline
 */
export type Factor = number | readonly [number, number];

/** A [low, high] pair: the bounds a random factor is drawn from, or the range of the images' values. */
export type Bounds = [number, number];

/** Checks a layer's random factor and returns [lower, upper] (a number b gives symmetric(b)). */
export function factorRange(
  layer: string,
  name: string,
  value: unknown,
  symmetric: (b: number) => [number, number],
  bound?: [number, number],
): [number, number] {
  let range: [number, number] | null = null;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) range = symmetric(value);
  else if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isFinite(v)) && value[0] <= value[1]) {
    range = [value[0], value[1]];
  }
  const inBounds = range !== null && (!bound || (range[0] >= bound[0] && range[1] <= bound[1]));
  if (!range || !inBounds) {
    const where = bound ? ` in [${bound[0]}, ${bound[1]}]` : '';
    throw new ValueError(
      `${layer}: ${name} must be a non-negative number or a pair [lower, upper] with lower <= upper${where}; received ${fmtValue(value)}`,
    );
  }
  return range;
}

export function positiveInteger(layer: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ValueError(`${layer}: ${name} must be a positive integer; received ${fmtValue(value)}`);
  }
  return value;
}

export function checkSeed(layer: string, seed: unknown): number | null {
  if (seed === undefined || seed === null) return null;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new ValueError(`${layer}: seed must be an integer; received ${fmtValue(seed)}`);
  return seed;
}

/** fillMode, interpolation and fillValue of the geometric layers, with Keras's defaults. */
export function sampleOptions(layer: string, args: { fillMode?: FillMode; interpolation?: Interpolation; fillValue?: number }): SampleOptions {
  const fillMode = checkOneOf(layer, 'fillMode', args.fillMode ?? 'reflect', FILL_MODES);
  const interpolation = checkOneOf(layer, 'interpolation', args.interpolation ?? 'bilinear', INTERPOLATIONS);
  const fillValue = args.fillValue ?? 0;
  if (typeof fillValue !== 'number' || !Number.isFinite(fillValue))
    throw new ValueError(`${layer}: fillValue must be a finite number; received ${fmtValue(args.fillValue)}`);
  return { fillMode, interpolation, fillValue };
}

/** A layer over images [H, W, C] or batches [N, H, W, C], channels last; outputs the layer's dtype. */
export abstract class ImageLayer extends Layer {
  /** The input as a float batch [N, H, W, C] (cast to the layer's dtype, as Keras does), and whether it was one image. */
  protected toBatch(x: Tensor): { images: Tensor; single: boolean } {
    this.checkRank(x.shape);
    const images = cast(x, this.dtype);
    return x.rank === 3 ? { images: reshape(images, [1, ...images.shape]), single: true } : { images, single: false };
  }

  protected fromBatch(y: Tensor, single: boolean): Tensor {
    return single ? reshape(y, y.shape.slice(1)) : y;
  }

  protected checkRank(shape: Shape): void {
    if (shape.length !== 3 && shape.length !== 4) {
      throw new ShapeError(
        `${this.name} (${this.className}): expected images [height, width, channels] or a batch [n, height, width, channels]; received shape ${formatShape(shape)}`,
      );
    }
  }

  /** The shape with the spatial axes replaced (for crops and resizes). */
  protected withSpatial(inputShape: Shape | Shape[], height: number, width: number): Shape {
    const s = singleShape(this.name, inputShape);
    this.checkRank(s);
    const lead = s.length - 3;
    return [...s.slice(0, lead), height, width, s[lead + 2]];
  }

  protected override computeOutputDtype(_inputDtypes: DType[]): DType {
    return this.dtype;
  }
}

/**
 * An augmentation layer: active only with `training: true`. Random parameters are drawn per
 * image from the global stream (st.setSeed), or, with a `seed`, from seed + k at the layer's
 * k-th training call, so a seeded layer varies per call but a fresh one repeats the sequence
 * (Dropout's rule).
 */
export abstract class RandomImageLayer extends ImageLayer {
  /** The layer's seed, or null for the global stream. */
  readonly seed: number | null;
  private calls = 0;

  protected constructor(args: LayerArgs & { seed?: number | null } & Record<string, unknown>, ownKeys: readonly string[]) {
    super(args, [...ownKeys, 'seed']);
    this.seed = checkSeed(this.name, args.seed);
  }

  /** `count` draws of `perImage` uniforms in [0, 1), one row per image, read back to the host. */
  protected uniforms(count: number, perImage: number): Float32Array {
    const seed = this.seed === null ? undefined : this.seed + this.calls++;
    const u = randomUniform([count, perImage], { seed });
    // A GPU backend draws random numbers on the host and keeps them (Backend.peek): no read.
    const values = (u.hostValues() ?? u.dataSync()) as Float32Array;
    u.dispose();
    return values;
  }
}

/** lo + (hi − lo)·u: a draw from [lo, hi] (exactly lo when the range is a single point). */
export const between = ([lo, hi]: readonly [number, number], u: number): number => (lo === hi ? lo : lo + (hi - lo) * u);
