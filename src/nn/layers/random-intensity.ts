// Augmentation layers that change values, not positions: RandomContrast (per image), and the
// regularization layers GaussianNoise and GaussianDropout (per value). Active only while
// training; the same seeding rule as Dropout (global stream, or seed + k at the k-th call).

import type { DType } from '../../core/dtype.js';
import { ValueError, fmtValue } from '../../core/errors.js';
import { add, clip, mul, sub } from '../../ops/elementwise.js';
import { mean } from '../../ops/reduction.js';
import { randomNormal, tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { RandomImageLayer, between, checkSeed, factorRange, type Factor } from './image-layer.js';

/** Options of `st.layers.randomContrast`. */
export interface RandomContrastArgs extends LayerArgs {
  /** b or [lo, hi] in [0, 1]: the contrast factor is drawn from [1 − lo, 1 + hi] (b means lo = hi = b). */
  factor: Factor;
  /** Outputs are clipped to this range (Keras's default [0, 255]). */
  valueRange?: readonly [number, number];
  /**
   * A seed for reproducible draws (each training call then takes the next seed); default: the
   * global stream.
   */
  seed?: number | null;
}

/**
 * Scales each image's deviation from its per-channel mean by a random factor:
 * (x − mean) · f + mean, clipped to valueRange, as Keras 3.
 */
export class RandomContrast extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomContrast';
  /** The contrast range, as given. */
  readonly factor: Factor;
  /** The range outputs are clipped to. */
  readonly valueRange: readonly [number, number];
  private readonly range: [number, number];

  constructor(args: RandomContrastArgs) {
    super(args as RandomContrastArgs & Record<string, unknown>, ['factor', 'valueRange']);
    const [lo, hi] = factorRange(this.name, 'factor', args.factor, (b) => [b, b], [0, 1]);
    this.range = [1 - lo, 1 + hi];
    this.factor = args.factor;
    const v = args.valueRange ?? [0, 255];
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || !(v[0] < v[1])) {
      throw new ValueError(`${this.name}: valueRange must be [low, high] with low < high; received ${fmtValue(args.valueRange)}`);
    }
    this.valueRange = [v[0], v[1]];
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const n = images.shape[0];
    const u = this.uniforms(n, 1);
    const factors = tensor(
      Float64Array.from(u, (v) => between(this.range, v)),
      [n, 1, 1, 1],
      images.dtype,
    );
    const centre = mean(images, [1, 2], true);
    const out = clip(add(mul(sub(images, centre), factors), centre), this.valueRange[0], this.valueRange[1]);
    return this.fromBatch(out, single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, valueRange: [...this.valueRange], seed: this.seed };
  }
}

/** A layer adding per-value noise while training; any input shape, masks pass through. */
abstract class NoiseLayer extends Layer {
  override supportsMasking = true;
  /** The layer's seed, or null for the global stream. */
  readonly seed: number | null;
  private calls = 0;

  protected constructor(args: LayerArgs & { seed?: number | null } & Record<string, unknown>, ownKeys: string[]) {
    super(args, [...ownKeys, 'seed']);
    this.seed = checkSeed(this.name, args.seed);
  }

  /** Dropout's rule: the global stream, or seed + k at the k-th noisy call. */
  protected nextSeed(): number | undefined {
    return this.seed === null ? undefined : this.seed + this.calls++;
  }

  protected override computeOutputDtype(inputDtypes: DType[]): DType {
    return inputDtypes[0];
  }
}

/** Options of `st.layers.gaussianNoise`. */
export interface GaussianNoiseArgs extends LayerArgs {
  /** Standard deviation of the added zero-mean normal noise. */
  stddev: number;
  /**
   * A seed for reproducible noise (each training call then takes the next seed); default: the
   * global stream.
   */
  seed?: number | null;
}

/** Adds N(0, stddev²) noise to every value while training. */
export class GaussianNoise extends NoiseLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'GaussianNoise';
  /** The noise's standard deviation. */
  readonly stddev: number;

  constructor(args: GaussianNoiseArgs) {
    super(args as GaussianNoiseArgs & Record<string, unknown>, ['stddev']);
    if (typeof args.stddev !== 'number' || !Number.isFinite(args.stddev) || args.stddev < 0) {
      throw new ValueError(`${this.name}: stddev must be a non-negative number; received ${fmtValue(args.stddev)}`);
    }
    this.stddev = args.stddev;
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const x = inputs as Tensor;
    if (!options.training || this.stddev === 0) return x;
    return add(x, randomNormal(x.shape, { stddev: this.stddev, seed: this.nextSeed(), dtype: noiseDtype(x) }));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), stddev: this.stddev, seed: this.seed };
  }
}

/** Options of `st.layers.gaussianDropout`. */
export interface GaussianDropoutArgs extends LayerArgs {
  /** Drop probability in [0, 1): values are multiplied by N(1, rate / (1 − rate)) noise. */
  rate: number;
  /**
   * A seed for reproducible noise (each training call then takes the next seed); default: the
   * global stream.
   */
  seed?: number | null;
}

/** Multiplies every value by 1-centred normal noise of variance rate / (1 − rate) while training. */
export class GaussianDropout extends NoiseLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'GaussianDropout';
  /** The drop probability that sets the noise's variance. */
  readonly rate: number;

  constructor(args: GaussianDropoutArgs) {
    super(args as GaussianDropoutArgs & Record<string, unknown>, ['rate']);
    if (typeof args.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) {
      throw new ValueError(`${this.name}: rate must be a number in [0, 1); received ${fmtValue(args.rate)}`);
    }
    this.rate = args.rate;
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const x = inputs as Tensor;
    if (!options.training || this.rate === 0) return x;
    const stddev = Math.sqrt(this.rate / (1 - this.rate));
    return mul(x, randomNormal(x.shape, { mean: 1, stddev, seed: this.nextSeed(), dtype: noiseDtype(x) }));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

/** Noise in the input's floating dtype (integers get float32 noise). */
const noiseDtype = (x: Tensor): DType => (x.dtype === 'float64' ? 'float64' : 'float32');

registerLayer('RandomContrast', (c) => new RandomContrast(c as unknown as RandomContrastArgs));
registerLayer('GaussianNoise', (c) => new GaussianNoise(c as unknown as GaussianNoiseArgs));
registerLayer('GaussianDropout', (c) => new GaussianDropout(c as unknown as GaussianDropoutArgs));
