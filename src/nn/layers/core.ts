import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { sizeOf } from '../../core/shape.js';
import { cast, div, greaterEqual, mul } from '../../ops/elementwise.js';
import { reshape } from '../../ops/shape-ops.js';
import { randomUniform } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { DType } from '../../core/dtype.js';
import { getActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { Layer, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { weightConfig } from './dense.js';

/** Options of `st.layers.activation`. */
export interface ActivationArgs extends LayerArgs {
  /** The activation: a name ('relu', 'softmax', 'gelu', ...; see `st.activations`) or a function. */
  activation: ActivationIdentifier;
}

/** Applies an activation function by name (relu, softmax, gelu, ...) or a function. */
export class ActivationLayer extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Activation';
  override supportsMasking = true;
  /** The activation applied. */
  readonly activation: Activation;
  constructor(args: ActivationArgs) {
    super(args as ActivationArgs & Record<string, unknown>, ['activation']);
    if (args.activation === undefined) throw new ValueError(`${this.name}: the activation option is required, e.g. {activation: 'relu'}`);
    this.activation = getActivation(args.activation);
  }
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return this.activation.apply(inputs as Tensor);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: weightConfig.activation(this.activation) };
  }
}

/** Options of `st.layers.dropout`. */
export interface DropoutArgs extends LayerArgs {
  /** The fraction of values to zero while training, in [0, 1). */
  rate: number;
  /** Shape of the random mask, broadcast over x (null entries take x's size), as Keras's noise_shape. */
  noiseShape?: readonly (number | null)[] | null;
  /**
   * A seed that makes the masks reproducible for a new layer (each call then draws the next mask);
   * default: the global stream (`st.setSeed`).
   */
  seed?: number | null;
}

/**
 * Inverted dropout: while training, zeroes each value with probability `rate` and scales the
 * rest by 1 / (1 - rate), so inference needs no rescaling. Draws from the global seeded stream
 * (st.setSeed) unless given its own seed.
 */
export class Dropout extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Dropout';
  override supportsMasking = true;
  /** The fraction of values zeroed while training. */
  readonly rate: number;
  /** The shape of the random mask, or null for the input's own shape. */
  readonly noiseShape: readonly (number | null)[] | null;
  /** The layer's own seed, or null for the global stream. */
  readonly seed: number | null;
  private calls = 0;
  constructor(args: DropoutArgs) {
    super(args as DropoutArgs & Record<string, unknown>, ['rate', 'noiseShape', 'seed']);
    if (typeof args.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) {
      throw new ValueError(`${this.name}: rate must be a number in [0, 1); received ${fmtValue(args.rate)}`);
    }
    this.rate = args.rate;
    this.noiseShape = args.noiseShape ?? null;
    this.seed = args.seed ?? null;
  }
  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const x = inputs as Tensor;
    if (!options.training || this.rate === 0) return x;
    const shape = this.noiseShape ? this.noiseShape.map((d, i) => d ?? x.shape[i]) : x.shape;
    // A seeded layer varies its mask per call but repeats the sequence from a fresh layer.
    const seed = this.seed === null ? undefined : this.seed + this.calls++;
    // The mask's temporaries are freed now; only the scaled mask stays on the tape.
    const u = randomUniform(shape, { seed });
    const kept = greaterEqual(u, this.rate);
    const keep = cast(kept, x.dtype);
    const scaled = div(keep, 1 - this.rate);
    for (const t of [u, kept, keep]) t.dispose();
    return mul(x, scaled);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, noiseShape: this.noiseShape, seed: this.seed };
  }
}

/** Keeps the batch axis and flattens the rest: [N, H, W, C] → [N, H·W·C] (row-major, channels last). */
export class Flatten extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Flatten';
  constructor(args: LayerArgs & { dataFormat?: 'channelsLast' } = {}) {
    super(args as LayerArgs & Record<string, unknown>, ['dataFormat']);
  }
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    return reshape(x, [x.shape[0], sizeOf(x.shape.slice(1))]);
  }
  protected override computeOutputDtype(inputDtypes: DType[]): DType {
    return inputDtypes[0];
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(this.name, inputShape);
    const rest = s.slice(1);
    return [s[0], rest.some((d) => d === null) ? null : sizeOf(rest as number[])];
  }
}

export interface ReshapeArgs extends LayerArgs {
  /** The shape without the batch axis; one entry may be -1. */
  targetShape: readonly number[];
}

/**
 * Reshapes each sample to `targetShape`, keeping the batch axis (Keras's Reshape).
 * @throws ShapeError at call time when a sample's size does not fit targetShape.
 */
export class Reshape extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Reshape';
  /** The shape of one sample after reshaping (one entry may be -1). */
  readonly targetShape: readonly number[];
  constructor(args: ReshapeArgs) {
    super(args as ReshapeArgs & Record<string, unknown>, ['targetShape']);
    const t = args.targetShape;
    if (!Array.isArray(t) || t.some((d) => !Number.isInteger(d) || d < -1) || t.filter((d) => d === -1).length > 1) {
      throw new ValueError(`${this.name}: targetShape must be an array of non-negative integers with at most one -1; received ${fmtValue(t)}`);
    }
    this.targetShape = [...t];
  }
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    return reshape(x, [x.shape[0], ...(this.resolve(x.shape.slice(1), x.shape) as number[])]);
  }
  protected override computeOutputDtype(inputDtypes: DType[]): DType {
    return inputDtypes[0];
  }
  private resolve(rest: readonly (number | null)[], full: Shape): (number | null)[] {
    if (rest.some((d) => d === null)) return this.targetShape.map((d) => (d === -1 ? null : d));
    const n = sizeOf(rest as number[]);
    const known = sizeOf(this.targetShape.filter((d) => d !== -1));
    const out = this.targetShape.map((d) => (d === -1 ? n / known : d));
    if (sizeOf(out) !== n || !out.every(Number.isInteger)) {
      throw new ShapeError(
        `${this.name}: cannot reshape input ${formatShape(full)} (${n} values per sample) to targetShape ${formatShape(this.targetShape)}`,
      );
    }
    return out;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(this.name, inputShape);
    return [s[0], ...this.resolve(s.slice(1), s)];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), targetShape: this.targetShape };
  }
}

registerLayer('Activation', (c) => new ActivationLayer(c as unknown as ActivationArgs));
registerLayer('Dropout', (c) => new Dropout(c as unknown as DropoutArgs));
registerLayer('Flatten', (c) => new Flatten(c as LayerArgs));
registerLayer('Reshape', (c) => new Reshape(c as unknown as ReshapeArgs));
