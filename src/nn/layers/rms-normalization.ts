// Keras 3's RMSNormalization layer, on the st.rmsNormalization op.
import { ValueError, fmtValue } from '../../core/errors.js';
import { normalizeAxes } from '../../core/shape.js';
import { rmsNormalization } from '../../ops/rms-normalization.js';
import { reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type CallOptions, Layer, type LayerArgs, knownDim, singleShape } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Shape } from '../symbolic.js';
import { floatingLike } from './conv-options.js';

/** Options of `st.layers.rmsNormalization`. */
export interface RMSNormalizationArgs extends LayerArgs {
  /** The axis (or axes) normalized over, usually the features. Default -1. */
  axis?: number | readonly number[];
  /** Added to the mean square before the root. Default 1e-6 (Keras's layer default). */
  epsilon?: number;
}

/**
 * Root-mean-square normalization (Keras's RMSNormalization): x · rsqrt(mean(x², axis) + epsilon)
 * · scale, with a learned `scale` (ones at first) of the normalized axes' sizes. Cheaper than layer
 * normalization (no mean subtracted, no offset); the normalization of many language models.
 */
export class RMSNormalization extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RMSNormalization';
  override supportsMasking = true;
  /** The axis or axes, as given. */
  readonly axis: number | number[];
  /** Added to the mean square. */
  readonly epsilon: number;
  private scale: Tensor | null = null;
  private axes: number[] = [];

  constructor(args: RMSNormalizationArgs = {}) {
    super(args as RMSNormalizationArgs & Record<string, unknown>, ['axis', 'epsilon']);
    const a = args.axis ?? -1;
    const ok = Number.isInteger(a) || (Array.isArray(a) && a.length > 0 && a.every(Number.isInteger));
    if (!ok) throw new ValueError(`${this.name}: axis must be an integer or a non-empty list of integers; received ${fmtValue(args.axis)}`);
    this.axis = typeof a === 'number' ? a : [...a];
    const e = args.epsilon ?? 1e-6;
    if (typeof e !== 'number' || !(e >= 0) || !Number.isFinite(e))
      throw new ValueError(`${this.name}: epsilon must be a finite number >= 0; received ${fmtValue(e)}`);
    this.epsilon = e;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = singleShape(this.name, inputShape);
    this.axes = normalizeAxes(this.name, this.axis, s.length);
    if (this.axes.includes(0)) throw new ValueError(`${this.name}: the batch axis 0 cannot be normalized over; received axis ${fmtValue(this.axis)}`);
    const shape = this.axes.map((a) => knownDim(this.name, s, a, `size of axis ${a}`));
    this.scale = this.addWeight('scale', shape, { initializer: 'ones' });
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.dtype);
    // The scale has the normalized axes' sizes; it broadcasts with 1s on the other axes.
    const shape = x.shape.map((d, i) => (this.axes.includes(i) ? d : 1));
    return rmsNormalization(x, { scale: reshape(this.scale!, shape), axis: this.axes, epsilon: this.epsilon });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis, epsilon: this.epsilon };
  }
}

registerLayer('RMSNormalization', (c) => new RMSNormalization(c as RMSNormalizationArgs));
