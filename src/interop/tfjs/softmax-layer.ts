// Keras's Softmax layer, for imported models: softmax over one axis. Strata's layers express a
// softmax as Activation('softmax') over the last axis, but Keras configs name the axis, and tfjs
// writes it as a positive index (axis 1 of a [batch, n] output) that only the input's rank can
// tell apart from the last axis; this layer takes it as given. Registered as 'Softmax', so an
// imported model that uses it saves and loads like any other.
import { ValueError, fmtValue } from '../../core/errors.js';
import { type CallOptions, Layer, type LayerArgs } from '../../nn/layer.js';
import { registerLayer } from '../../nn/registry.js';
import { softmax } from '../../ops/nn.js';
import type { Tensor } from '../../tensor/tensor.js';

/** Options of {@link SoftmaxLayer}. */
export interface SoftmaxArgs extends LayerArgs {
  /** The axis the probabilities sum to 1 over (negative counts from the end); default -1. */
  axis?: number;
}

/** Softmax over `axis`, as Keras's Softmax layer. */
export class SoftmaxLayer extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Softmax';
  /** The axis normalized over. */
  readonly axis: number;

  constructor(args: SoftmaxArgs = {}) {
    super(args as SoftmaxArgs & Record<string, unknown>, ['axis']);
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new ValueError(`${this.name}: axis must be an integer; received ${fmtValue(args.axis)}`);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    if (this.axis === 0 || this.axis >= x.rank || this.axis < -x.rank) {
      throw new ValueError(
        `${this.name}: axis ${this.axis} is out of range for inputs of rank ${x.rank} (the batch axis 0 cannot be normalized over)`,
      );
    }
    return softmax(x, this.axis);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

registerLayer('Softmax', (c) => new SoftmaxLayer(c as SoftmaxArgs));
