import type { DType } from '../../core/dtype.js';
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkKeys } from '../../core/options.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, type CallOptions } from '../layer.js';
import { registerLayer } from '../registry.js';
import { Node, SymbolicTensor, type Shape } from '../symbolic.js';

/** Options of `st.input` (`st.layers.input`): give `shape` or `batchShape`. */
export interface InputArgs {
  /** The shape of one sample (without the batch axis); null entries are sizes known only at run time. */
  shape?: readonly (number | null)[];
  /** The batch size, when it is fixed (default: unknown, null). */
  batchSize?: number;
  /** The full shape, batch axis first (instead of shape and batchSize). */
  batchShape?: Shape;
  /** The dtype of the values fed here (int32 for token ids). Default float32. */
  dtype?: DType;
  /** The input's name (default `input`, `input_1`, ...). */
  name?: string;
}

/** The layer behind `st.layers.input()`: a named entry point of a functional model. */
export class InputLayer extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'InputLayer';
  constructor(args: { batchInputShape: Shape; dtype?: DType; name?: string }) {
    super(args as Record<string, unknown>, []);
    if (!this.batchInputShape) throw new ValueError(`${this.name}: an input needs a shape`);
    this.built = true;
  }
  /** Passes its input through. */
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return inputs as Tensor;
  }
  protected override computeOutputDtype(): DType {
    return this.dtype;
  }
  /** The one symbolic tensor this layer stands for. */
  override get output(): SymbolicTensor {
    return this.inboundNodes[0].outputs[0];
  }
  override getConfig(): Record<string, unknown> {
    return { batchInputShape: [...this.batchInputShape!], dtype: this.dtype, name: this.name };
  }
}

function inputLayer(args: { batchInputShape: Shape; dtype?: DType; name?: string }): InputLayer {
  const layer = new InputLayer(args);
  const out = new SymbolicTensor(layer.batchInputShape!, layer.dtype, 0, layer.name);
  out.node = new Node(layer, [], [out], {}, false);
  layer.inboundNodes.push(out.node);
  return layer;
}

/**
 * A symbolic input for the functional API (Keras's `keras.Input`): a placeholder with a shape and
 * dtype that layers are applied to, to record a graph that `st.model({inputs, outputs})` turns into
 * a model. Give `shape` (one sample, without the batch axis) or `batchShape`.
 * @throws ValueError unless exactly one of shape and batchShape is given, or for an unknown option.
 * @example
 * ```ts
 * const x = st.input({ shape: [28, 28, 1] });
 * const y = st.layers.dense({ units: 10 }).apply(st.layers.flatten().apply(x));
 * const m = st.model({ inputs: x, outputs: y });
 * console.log(y.shape); // [null, 10]
 * ```
 */
export function input(args: InputArgs): SymbolicTensor {
  checkKeys('input', args, ['shape', 'batchSize', 'batchShape', 'dtype', 'name']);
  if ((args.shape === undefined) === (args.batchShape === undefined)) {
    throw new ValueError(`input: give exactly one of shape (without the batch axis) and batchShape; received ${fmtValue(args)}`);
  }
  const batchInputShape = args.batchShape ?? [args.batchSize ?? null, ...args.shape!];
  return inputLayer({ batchInputShape, dtype: args.dtype, name: args.name }).output;
}

registerLayer('InputLayer', (c) => inputLayer(c as { batchInputShape: Shape; dtype?: DType; name?: string }));
