// Keras's activation layers with parameters of their own: LeakyReLU (a fixed slope), PReLU (a
// learned slope), ELU (a scale of the negative part), ThresholdedReLU (tfjs; Keras 2's) and
// Softmax over chosen axes with Keras's mask. Each keeps its input's shape and passes masks on.
import { ValueError, fmtValue } from '../../core/errors.js';
import { add, exp, greater, mul, neg, relu, sub, where } from '../../ops/elementwise.js';
import { logSumExp, softmax } from '../../ops/nn.js';
import { reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { elu } from '../activations.js';
import type { InitializerIdentifier } from '../initializers.js';
import { type CallOptions, Layer, type LayerArgs, knownDim, singleShape } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Regularizer } from '../regularizers.js';
import type { Shape } from '../symbolic.js';
import { floatingLike } from './conv-options.js';
import { weightConfig } from './dense.js';

function finiteAtLeast(layer: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v >= min)) {
    throw new ValueError(`${layer}: ${name} must be a finite number >= ${min}; received ${fmtValue(v)}`);
  }
  return v;
}

/** Options of `st.layers.leakyReLU`. */
export interface LeakyReLUArgs extends LayerArgs {
  /** The slope below 0 (Keras 3's negative_slope); default 0.3, the layer's default in Keras and tfjs. */
  negativeSlope?: number;
  /** tfjs's (and Keras 2's) name for negativeSlope; give one or the other. */
  alpha?: number;
}

/**
 * x for x >= 0, negativeSlope * x below (Keras's LeakyReLU layer). Its default slope is 0.3, the
 * layer's default in Keras 3 and tfjs; the activation function `leakyRelu` defaults to 0.2.
 */
export class LeakyReLU extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'LeakyReLU';
  override supportsMasking = true;
  /** The slope below 0. */
  readonly negativeSlope: number;

  constructor(args: LeakyReLUArgs = {}) {
    super(args as LeakyReLUArgs & Record<string, unknown>, ['negativeSlope', 'alpha']);
    if (args.alpha !== undefined && args.negativeSlope !== undefined) {
      throw new ValueError(`${this.name}: give negativeSlope or its older name alpha, not both; received ${fmtValue(args)}`);
    }
    this.negativeSlope = finiteAtLeast(this.name, 'negativeSlope', args.negativeSlope ?? args.alpha ?? 0.3, 0);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.dtype);
    return where(greater(x, 0), x, mul(x, this.negativeSlope));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), negativeSlope: this.negativeSlope };
  }
}

/** Options of `st.layers.prelu`. */
export interface PReLUArgs extends LayerArgs {
  /** How the slopes start; default 'zeros' (Keras's), so a new PReLU is a ReLU. */
  alphaInitializer?: InitializerIdentifier;
  /** A penalty on the slopes added to the loss. Default none. */
  alphaRegularizer?: Regularizer | string | null;
  /**
   * Axes (1-based, batch axis 0 excluded) along which one slope is shared, e.g. [1, 2] for one
   * slope per channel of an NHWC map.
   */
  sharedAxes?: number | readonly number[] | null;
}

/**
 * A ReLU whose slope below 0 is learned, one per input position (Keras's PReLU): relu(x) −
 * alpha · relu(−x). The weight `alpha` has the input's shape without the batch axis, with 1 on
 * the shared axes.
 */
export class PReLU extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'PReLU';
  override supportsMasking = true;
  /** The axes with one shared slope, or null. */
  readonly sharedAxes: number[] | null;
  private alpha: Tensor | null = null;

  constructor(private readonly args: PReLUArgs = {}) {
    super(args as PReLUArgs & Record<string, unknown>, ['alphaInitializer', 'alphaRegularizer', 'alphaConstraint', 'sharedAxes']);
    // Strata has no weight constraints; a config written by Keras or tfjs carries alphaConstraint: null.
    const constraint = (args as { alphaConstraint?: unknown }).alphaConstraint;
    if (constraint !== undefined && constraint !== null) {
      throw new ValueError(`${this.name}: alphaConstraint is not supported (Strata has no weight constraints); received ${fmtValue(constraint)}`);
    }
    const s = args.sharedAxes;
    const list = s === undefined || s === null ? null : typeof s === 'number' ? [s] : Array.isArray(s) ? [...s] : undefined;
    if (list === undefined || (list && !list.every((a) => Number.isInteger(a) && a >= 1))) {
      throw new ValueError(
        `${this.name}: sharedAxes must be an axis >= 1 or a list of them (the batch axis 0 is never shared); received ${fmtValue(s)}`,
      );
    }
    this.sharedAxes = list;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = singleShape(this.name, inputShape);
    const shared = new Set(this.sharedAxes ?? []);
    for (const a of shared) {
      if (a >= s.length) throw new ValueError(`${this.name}: sharedAxes ${fmtValue(this.sharedAxes)} name an axis beyond inputs of rank ${s.length}`);
    }
    const shape = s.slice(1).map((_, i) => (shared.has(i + 1) ? 1 : knownDim(this.name, s, i + 1, `size of axis ${i + 1} (not shared)`)));
    this.alpha = this.addWeight('alpha', shape, {
      initializer: this.args.alphaInitializer ?? 'zeros',
      regularizer: this.args.alphaRegularizer,
    });
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.dtype);
    // Keras's form: the gradient at exactly 0 is then 1 from neither side, as in Keras.
    return sub(relu(x), mul(this.alpha!, relu(neg(x))));
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      alphaInitializer: weightConfig.initializer(this.args.alphaInitializer ?? 'zeros'),
      alphaRegularizer: weightConfig.regularizer(this.args.alphaRegularizer),
      alphaConstraint: null,
      sharedAxes: this.sharedAxes,
    };
  }
}

/** Options of `st.layers.elu`. */
export interface ELUArgs extends LayerArgs {
  /** The scale of the negative part: alpha · (e^x − 1) below 0. Default 1. */
  alpha?: number;
}

/** x above 0, alpha · (e^x − 1) at or below (Keras's ELU layer). */
export class ELU extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'ELU';
  override supportsMasking = true;
  /** The scale of the negative part. */
  readonly alpha: number;

  constructor(args: ELUArgs = {}) {
    super(args as ELUArgs & Record<string, unknown>, ['alpha']);
    const a = args.alpha ?? 1;
    if (typeof a !== 'number' || !Number.isFinite(a)) throw new ValueError(`${this.name}: alpha must be a finite number; received ${fmtValue(a)}`);
    this.alpha = a;
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return elu(floatingLike(inputs as Tensor, this.dtype), { alpha: this.alpha });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

/** Options of `st.layers.thresholdedReLU`. */
export interface ThresholdedReLUArgs extends LayerArgs {
  /** Values at or below it become 0; default 1 (tfjs's and Keras 2's). Must be >= 0. */
  theta?: number;
}

/** x where x > theta, else 0 (tfjs's ThresholdedReLU, Keras 2's; Keras 3 dropped it). */
export class ThresholdedReLU extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'ThresholdedReLU';
  override supportsMasking = true;
  /** The threshold. */
  readonly theta: number;

  constructor(args: ThresholdedReLUArgs = {}) {
    super(args as ThresholdedReLUArgs & Record<string, unknown>, ['theta']);
    this.theta = finiteAtLeast(this.name, 'theta', args.theta ?? 1, 0);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.dtype);
    return where(greater(x, this.theta), x, 0);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), theta: this.theta };
  }
}

/** Options of `st.layers.softmax`. */
export interface SoftmaxArgs extends LayerArgs {
  /** The axis (or axes) the probabilities sum to 1 over; negative counts from the end. Default -1. */
  axis?: number | readonly number[];
}

/** What Keras adds to masked logits (float16 aside): their weight becomes e^-1e9, i.e. 0. */
const MASKED_LOGIT = -1e9;

/**
 * Softmax over `axis` (Keras's Softmax layer). With a mask (from a Masking or Embedding layer, or
 * given as `{mask}` in the call, 1 to keep and 0 to drop, broadcast against the input as Keras
 * does; a [batch, steps] step mask covers all features of its step), masked positions get −1e9
 * added to their logits, so they receive no probability.
 */
export class Softmax extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Softmax';
  override supportsMasking = true;
  /** The axis normalized over, or the axes. */
  readonly axis: number | number[];

  constructor(args: SoftmaxArgs = {}) {
    super(args as SoftmaxArgs & Record<string, unknown>, ['axis']);
    const a = args.axis ?? -1;
    const ok = Number.isInteger(a) || (Array.isArray(a) && a.length > 0 && a.every(Number.isInteger));
    if (!ok) throw new ValueError(`${this.name}: axis must be an integer or a non-empty list of integers; received ${fmtValue(args.axis)}`);
    this.axis = typeof a === 'number' ? a : [...a];
  }

  private axes(rank: number): number[] {
    const list = typeof this.axis === 'number' ? [this.axis] : this.axis;
    return list.map((a) => {
      if (a >= rank || a < -rank) throw new ValueError(`${this.name}: axis ${a} is out of range for inputs of rank ${rank}`);
      return a < 0 ? a + rank : a;
    });
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    let x = floatingLike(inputs as Tensor, this.dtype);
    const axes = this.axes(x.rank);
    const mask = options.mask as Tensor | null | undefined;
    if (mask) {
      // A step mask ([batch, steps], from Masking or Embedding) covers every feature of its step.
      const m = mask.rank < x.rank ? reshape(mask, [...mask.shape, ...Array(x.rank - mask.rank).fill(1)]) : mask;
      x = add(x, mul(sub(1, floatingLike(m, x.dtype)), MASKED_LOGIT));
    }
    if (axes.length === 1) return softmax(x, axes[0]);
    return exp(sub(x, logSumExp(x, axes, true)));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(this.name, inputShape);
    this.axes(s.length);
    return s;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

registerLayer('LeakyReLU', (c) => new LeakyReLU(c as LeakyReLUArgs));
registerLayer('PReLU', (c) => new PReLU(c as PReLUArgs));
registerLayer('ELU', (c) => new ELU(c as ELUArgs));
registerLayer('ThresholdedReLU', (c) => new ThresholdedReLU(c as ThresholdedReLUArgs));
registerLayer('Softmax', (c) => new Softmax(c as SoftmaxArgs));
