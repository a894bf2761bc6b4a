// Keras 3's RandomShear, on the affine sampling of the geometric layers (Note [Sampling by gather]).
import { ValueError, fmtValue } from '../../core/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { transformImages, type AffineRow, type FillMode, type Interpolation, type SampleOptions } from '../image-sampling.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { RandomImageLayer, sampleOptions } from './image-layer.js';

/** Options of `st.layers.randomShear`. */
export interface RandomShearArgs extends LayerArgs {
  /** f or [lo, hi] in [0, 1]: the horizontal shear is drawn from [lo, hi] (f means [−f, f]). Default 0. */
  xFactor?: number | readonly [number, number];
  /** f or [lo, hi] in [0, 1]: the vertical shear. Default 0. */
  yFactor?: number | readonly [number, number];
  /** Outside pixels: 'reflect' (default), 'wrap', 'constant' (fillValue) or 'nearest'. */
  fillMode?: FillMode;
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** The value of outside pixels with fillMode 'constant'. Default 0. */
  fillValue?: number;
  /** A seed for reproducible draws (each training call then takes the next seed); default: the global stream. */
  seed?: number | null;
}

/** Keras's rule for RandomShear's factors: a number f in [0, 1] means [−f, f]; a pair's ends must lie in [0, 1]. */
function shearRange(layer: string, name: string, v: unknown): [number, number] {
  const inUnit = (x: unknown): x is number => typeof x === 'number' && x >= 0 && x <= 1;
  if (inUnit(v)) return [-v, v];
  if (Array.isArray(v) && v.length === 2 && v.every(inUnit)) return v[0] <= v[1] ? [v[0], v[1]] : [v[1], v[0]];
  throw new ValueError(`${layer}: ${name} must be a number or a pair of numbers in [0, 1]; received ${fmtValue(v)}`);
}

/**
 * Shears images while training (Keras's RandomShear): output pixel (x, y) samples the input at
 * (x + s·sx·y, y + s·sy·x) about the top-left corner, sx and sy drawn per image from their ranges
 * and s = ±1 with even odds (Keras's invert draw).
 */
export class RandomShear extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomShear';
  /** The horizontal shear factor, as given. */
  readonly xFactor: number | readonly [number, number];
  /** The vertical shear factor, as given. */
  readonly yFactor: number | readonly [number, number];
  // The draw ranges. The config keeps the factors as given: a range [−f, f] would not pass the
  // [0, 1] check again when loaded.
  private readonly xRange: [number, number];
  private readonly yRange: [number, number];
  /** @internal */
  readonly sampling: SampleOptions;

  constructor(args: RandomShearArgs = {}) {
    super(args as RandomShearArgs & Record<string, unknown>, ['xFactor', 'yFactor', 'fillMode', 'interpolation', 'fillValue']);
    this.xFactor = args.xFactor ?? 0;
    this.yFactor = args.yFactor ?? 0;
    this.xRange = shearRange(this.name, 'xFactor', this.xFactor);
    this.yRange = shearRange(this.name, 'yFactor', this.yFactor);
    this.sampling = sampleOptions(this.name, args);
  }

  /** Per image: Keras's three draws, the sign, the vertical then the horizontal shear. */
  private transforms(n: number): AffineRow[] {
    const u = this.uniforms(n, 3);
    const draw = ([lo, hi]: [number, number], v: number) => lo + (hi - lo) * v;
    return Array.from({ length: n }, (_, b) => {
      const sign = u[3 * b] > 0.5 ? -1 : 1;
      const sy = sign * draw(this.yRange, u[3 * b + 1]),
        sx = sign * draw(this.xRange, u[3 * b + 2]);
      return [1, sx, 0, sy, 1, 0];
    });
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    return this.fromBatch(transformImages(images, this.transforms(images.shape[0]), this.sampling), single);
  }

  override getConfig(): Record<string, unknown> {
    const { fillMode, interpolation, fillValue } = this.sampling;
    return { ...super.getConfig(), xFactor: this.xFactor, yFactor: this.yFactor, fillMode, interpolation, fillValue, seed: this.seed };
  }
}

registerLayer('RandomShear', (c) => new RandomShear(c as RandomShearArgs));
