import { fmtValue, ValueError } from '../../core/errors.js';
import { greater, minimum, mul, relu, sub, where } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type CallOptions, Layer, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { floatingLike } from './conv-options.js';

/** The options of {@link ReLU} (Keras's max_value, negative_slope, threshold). */
export interface ReLUArgs extends LayerArgs {
  /** The largest output (6 for MobileNet's ReLU6); null or absent: no ceiling. Must be >= 0. */
  maxValue?: number | null;
  /** The slope below the threshold (a leaky ReLU); default 0. Must be >= 0. */
  negativeSlope?: number;
  /** Inputs at or below it give negativeSlope * (x - threshold); default 0. Must be >= 0. */
  threshold?: number;
}

function nonNegative(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
    throw new ValueError(`${layer}: ${name} must be a finite number >= 0; received ${fmtValue(v)}`);
  }
  return v;
}

/**
 * Keras's ReLU layer: min(x, maxValue) above the threshold, negativeSlope * (x - threshold) at
 * or below it. `st.layers.reLU({maxValue: 6})` is MobileNet's ReLU6.
 */
export class ReLU extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'ReLU';
  override supportsMasking = true;
  /** The ceiling of the output, or null for none. */
  readonly maxValue: number | null;
  /** The slope at and below the threshold. */
  readonly negativeSlope: number;
  /** Where the output switches from the slope to x. */
  readonly threshold: number;

  constructor(args: ReLUArgs = {}) {
    super(args as ReLUArgs & Record<string, unknown>, ['maxValue', 'negativeSlope', 'threshold']);
    this.maxValue = args.maxValue === undefined || args.maxValue === null ? null : nonNegative(this.name, 'maxValue', args.maxValue);
    this.negativeSlope = nonNegative(this.name, 'negativeSlope', args.negativeSlope ?? 0);
    this.threshold = nonNegative(this.name, 'threshold', args.threshold ?? 0);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.dtype);
    // Keras computes x > threshold strictly: at x == threshold > 0 the output is 0, not threshold.
    // The plain case keeps the relu primitive, whose gradient is one fused pass on native.
    let y = this.threshold === 0 ? relu(x) : where(greater(x, this.threshold), x, 0);
    if (this.maxValue !== null) y = minimum(y, this.maxValue);
    if (this.negativeSlope !== 0) y = sub(y, mul(relu(sub(this.threshold, x)), this.negativeSlope));
    return y;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maxValue: this.maxValue, negativeSlope: this.negativeSlope, threshold: this.threshold };
  }
}

registerLayer('ReLU', (c) => new ReLU(c as ReLUArgs));

/** The factory spread into st.layers (tfjs's name for Keras's ReLU layer). */
export const reluLayers = {
  /**
   * Keras's ReLU layer with `maxValue` (6 gives ReLU6), `negativeSlope` and `threshold`.
   * @throws ValueError for a negative or non-finite option.
   */
  reLU: (args: ReLUArgs = {}) => new ReLU(args),
};
