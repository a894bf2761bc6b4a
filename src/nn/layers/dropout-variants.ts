// The regularization layers beside Dropout: SpatialDropout1D/2D/3D (whole channels dropped),
// AlphaDropout (SELU's self-normalizing dropout) and ActivityRegularization (a penalty on the
// activations added to the loss). Dropping is active only while training, with Dropout's seeding
// rule (the global stream, or seed + k at the k-th training call).
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { add, cast, div, greaterEqual, mul, sub } from '../../ops/elementwise.js';
import { randomUniform } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { SELU_ALPHA, SELU_SCALE } from '../activations.js';
import { type CallOptions, Layer, type LayerArgs, singleShape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { l1l2 } from '../regularizers.js';
import type { Shape } from '../symbolic.js';
import { checkSeed } from './image-layer.js';
import { requireRank } from './conv-options.js';

function checkRate(layer: string, rate: unknown): number {
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new ValueError(`${layer}: rate must be a number in [0, 1); received ${fmtValue(rate)}`);
  }
  return rate;
}

/** A layer that draws a 0/1 "kept" mask while training; the seeding rule of Dropout. */
abstract class RandomDropLayer extends Layer {
  override supportsMasking = true;
  /** The fraction of values (or channels) dropped while training. */
  readonly rate: number;
  /** The layer's own seed, or null for the global stream. */
  readonly seed: number | null;
  private calls = 0;

  protected constructor(args: LayerArgs & { rate: number; seed?: number | null } & Record<string, unknown>, ownKeys: string[]) {
    super(args, ['rate', 'seed', ...ownKeys]);
    this.rate = checkRate(this.name, args.rate);
    this.seed = checkSeed(this.name, args.seed);
  }

  /** 1 where kept (probability 1 − rate), 0 where dropped, in x's dtype; `shape` broadcasts over x. */
  protected keptMask(x: Tensor, shape: readonly number[]): Tensor {
    const seed = this.seed === null ? undefined : this.seed + this.calls++;
    const u = randomUniform(shape, { seed });
    const kept = greaterEqual(u, this.rate);
    const mask = cast(kept, x.dtype);
    u.dispose();
    kept.dispose();
    return mask;
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

/** Options of `st.layers.spatialDropout1d`, `spatialDropout2d` and `spatialDropout3d`. */
export interface SpatialDropoutArgs extends LayerArgs {
  /** The fraction of channels zeroed while training, in [0, 1). */
  rate: number;
  /** A seed that makes the masks reproducible (each training call takes the next); default the global stream. */
  seed?: number | null;
  /** Where the channels are: 'channelsLast' (default) or 'channelsFirst' (2-D and 3-D only). */
  dataFormat?: 'channelsLast' | 'channelsFirst';
}

/**
 * Drops whole feature maps: one draw per sample and channel, shared by every step or pixel, the
 * kept ones scaled by 1 / (1 − rate) (Keras's SpatialDropout1D/2D/3D). Neighbouring steps of a
 * feature map are strongly correlated, so dropping single values would barely regularize.
 */
abstract class SpatialDropout extends RandomDropLayer {
  /** Where the channels are. */
  readonly dataFormat: 'channelsLast' | 'channelsFirst';
  protected abstract readonly spatialRank: number;

  protected constructor(args: SpatialDropoutArgs, formats: readonly ('channelsLast' | 'channelsFirst')[]) {
    super(args as SpatialDropoutArgs & Record<string, unknown>, ['dataFormat']);
    this.dataFormat = checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', formats);
  }

  private layout(): string {
    const spatial = ['steps', 'height, width', 'depth, height, width'][this.spatialRank - 1];
    return this.dataFormat === 'channelsLast' ? `[batch, ${spatial}, channels]` : `[batch, channels, ${spatial}]`;
  }

  override build(inputShape: Shape | Shape[]): void {
    requireRank(this.name, singleShape(this.name, inputShape), this.spatialRank + 2, this.layout());
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const x = inputs as Tensor;
    if (!options.training || this.rate === 0) return x;
    requireRank(this.name, x.shape, this.spatialRank + 2, this.layout());
    const c = this.dataFormat === 'channelsLast' ? x.rank - 1 : 1;
    const shape = x.shape.map((d, i) => (i === 0 || i === c ? d : 1));
    const keep = this.keptMask(x, shape);
    return mul(x, div(keep, 1 - this.rate));
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return this.spatialRank === 1 ? super.getConfig() : { ...super.getConfig(), dataFormat: this.dataFormat };
  }
}

/** Drops whole channels of [batch, steps, channels] sequences while training (Keras's SpatialDropout1D). */
export class SpatialDropout1D extends SpatialDropout {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'SpatialDropout1D';
  protected readonly spatialRank = 1;
  constructor(args: Omit<SpatialDropoutArgs, 'dataFormat'>) {
    super(args, ['channelsLast']);
  }
}

/** Drops whole channels of images while training (Keras's SpatialDropout2D). */
export class SpatialDropout2D extends SpatialDropout {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'SpatialDropout2D';
  protected readonly spatialRank = 2;
  constructor(args: SpatialDropoutArgs) {
    super(args, ['channelsLast', 'channelsFirst']);
  }
}

/** Drops whole channels of volumes while training (Keras's SpatialDropout3D). */
export class SpatialDropout3D extends SpatialDropout {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'SpatialDropout3D';
  protected readonly spatialRank = 3;
  constructor(args: SpatialDropoutArgs) {
    super(args, ['channelsLast', 'channelsFirst']);
  }
}

/** Options of `st.layers.alphaDropout`. */
export interface AlphaDropoutArgs extends LayerArgs {
  /** The fraction of values dropped while training, in [0, 1). */
  rate: number;
  /** Shape of the random mask, broadcast over x (null entries take x's size), as Keras's noise_shape. */
  noiseShape?: readonly (number | null)[] | null;
  /** A seed that makes the masks reproducible (each training call takes the next); default the global stream. */
  seed?: number | null;
}

/**
 * Dropout for SELU networks (Keras's AlphaDropout, Klambauer et al. 2017): dropped values are set
 * to SELU's negative saturation α' = −scale·alpha rather than 0, then everything is mapped by
 * a·x + b with a = ((1 − rate)(1 + rate·α'²))^(−1/2) and b = −a·α'·rate, which keeps the mean 0
 * and variance 1 of standardized inputs. Inference passes values through.
 */
export class AlphaDropout extends RandomDropLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AlphaDropout';
  /** The shape of the random mask, or null for the input's own shape. */
  readonly noiseShape: readonly (number | null)[] | null;

  constructor(args: AlphaDropoutArgs) {
    super(args as AlphaDropoutArgs & Record<string, unknown>, ['noiseShape']);
    const n = args.noiseShape ?? null;
    if (n !== null && !(Array.isArray(n) && n.every((d) => d === null || (Number.isInteger(d) && d > 0)))) {
      throw new ValueError(`${this.name}: noiseShape must be a list of positive integers or nulls; received ${fmtValue(n)}`);
    }
    this.noiseShape = n === null ? null : [...n];
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const x = inputs as Tensor;
    if (!options.training || this.rate === 0) return x;
    if (this.noiseShape && this.noiseShape.length !== x.rank) {
      throw new ValueError(`${this.name}: noiseShape ${fmtValue(this.noiseShape)} must have one entry per axis of inputs of rank ${x.rank}`);
    }
    const shape = this.noiseShape ? this.noiseShape.map((d, i) => d ?? x.shape[i]) : x.shape;
    const keep = this.keptMask(x, shape);
    const alphaP = -SELU_ALPHA * SELU_SCALE,
      rate = this.rate;
    const a = ((1 - rate) * (1 + rate * alphaP ** 2)) ** -0.5;
    const b = -a * alphaP * rate;
    // x·keep + α'(1 − keep), then a·(.) + b: the gradient is a·keep.
    const dropped = add(mul(x, keep), mul(sub(1, keep), alphaP));
    return add(mul(dropped, a), b);
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), noiseShape: this.noiseShape };
  }
}

/** Options of `st.layers.activityRegularization`. */
export interface ActivityRegularizationArgs extends LayerArgs {
  /** The factor of sum(|x|) over the whole batch, >= 0. Default 0. */
  l1?: number;
  /** The factor of sum(x²) over the whole batch, >= 0. Default 0. */
  l2?: number;
}

// Note [Activity penalties]
// Keras adds l1·sum|x| + l2·sum(x²) of the layer's output (its whole batch, not divided by the
// batch size in Keras 3) to the loss of the pass that computed it. Here each call records its
// penalty, replacing the previous call's, and regularizationLosses() (which the trainer calls once
// per step, after the forward pass, for fit and evaluate alike) hands it over once. Replacing
// rather than accumulating keeps calls nobody collects (predict, a hand-written loop) from
// piling into the next step's loss; the price is that a layer applied several times in one
// model pass (a shared layer) counts its last call only.

/**
 * Passes its input through unchanged and adds l1·sum(|x|) + l2·sum(x²) of it to the training loss
 * (Keras's ActivityRegularization; Note [Activity penalties]).
 */
export class ActivityRegularization extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'ActivityRegularization';
  override supportsMasking = true;
  /** The factor of sum(|x|). */
  readonly l1: number;
  /** The factor of sum(x²). */
  readonly l2: number;
  private pending: Tensor | null = null;

  constructor(args: ActivityRegularizationArgs = {}) {
    super(args as ActivityRegularizationArgs & Record<string, unknown>, ['l1', 'l2']);
    l1l2({ l1: args.l1 ?? 0, l2: args.l2 ?? 0 }); // refuses negative or non-finite factors
    this.l1 = args.l1 ?? 0;
    this.l2 = args.l2 ?? 0;
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    if (this.l1 !== 0 || this.l2 !== 0) this.pending = l1l2({ l1: this.l1, l2: this.l2 }).apply(x);
    return x;
  }

  /** The penalty of the last call, handed over once (Note [Activity penalties]). */
  override regularizationLosses(): Tensor[] {
    const out = [...super.regularizationLosses(), ...(this.pending ? [this.pending] : [])];
    this.pending = null;
    return out;
  }

  protected override computeOutputDtype(inputDtypes: Tensor['dtype'][]): Tensor['dtype'] {
    return inputDtypes[0];
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), l1: this.l1, l2: this.l2 };
  }
}

registerLayer('SpatialDropout1D', (c) => new SpatialDropout1D(c as unknown as SpatialDropoutArgs));
registerLayer('SpatialDropout2D', (c) => new SpatialDropout2D(c as unknown as SpatialDropoutArgs));
registerLayer('SpatialDropout3D', (c) => new SpatialDropout3D(c as unknown as SpatialDropoutArgs));
registerLayer('AlphaDropout', (c) => new AlphaDropout(c as unknown as AlphaDropoutArgs));
registerLayer('ActivityRegularization', (c) => new ActivityRegularization(c as ActivityRegularizationArgs));
