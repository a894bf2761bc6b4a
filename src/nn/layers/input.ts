import type { DType } from '../../core/dtype.js';
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkKeys } from '../../core/options.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, type CallOptions } from '../layer.js';
import { registerLayer } from '../registry.js';
import { Node, SymbolicTensor, type Shape } from '../symbolic.js';

export interface InputArgs {
  /** The shape of one sample (without the batch axis); null entries are sizes known only at run time. */
  shape?: readonly (number | null)[];
  batchSize?: number;
  /** The full shape, batch axis first (instead of shape and batchSize). */
  batchShape?: Shape;
  dtype?: DType;
  name?: string;
}

/** The layer behind `st.layers.input()`: a named entry point of a functional model. */
export class InputLayer extends Layer {
  static readonly className = 'InputLayer';
  constructor(args: { batchInputShape: Shape; dtype?: DType; name?: string }) {
    super(args as Record<string, unknown>, []);
    if (!this.batchInputShape) throw new ValueError(`${this.name}: an input needs a shape`);
    this.built = true;
  }
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return inputs as Tensor;
  }
  protected override computeOutputDtype(): DType {
    return this.dtype;
  }
  /** The one symbolic tensor this layer stands for. */
  get output(): SymbolicTensor {
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

/** A symbolic input for the functional API: `const x = st.layers.input({shape: [28, 28, 1]})`. */
export function input(args: InputArgs): SymbolicTensor {
  checkKeys('input', args, ['shape', 'batchSize', 'batchShape', 'dtype', 'name']);
  if ((args.shape === undefined) === (args.batchShape === undefined)) {
    throw new ValueError(`input: give exactly one of shape (without the batch axis) and batchShape; received ${fmtValue(args)}`);
  }
  const batchInputShape = args.batchShape ?? [args.batchSize ?? null, ...args.shape!];
  return inputLayer({ batchInputShape, dtype: args.dtype, name: args.name }).output;
}

registerLayer('InputLayer', (c) => inputLayer(c as { batchInputShape: Shape; dtype?: DType; name?: string }));
