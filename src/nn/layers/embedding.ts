import type { DType } from '../../core/dtype.js';
import { ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { cast, notEqual } from '../../ops/elementwise.js';
import { gather } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { InitializerIdentifier } from '../initializers.js';
import { Layer, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Regularizer } from '../regularizers.js';
import type { Shape } from '../symbolic.js';
import { positiveInt, weightConfig } from './dense.js';

/** Options of `st.layers.embedding`. */
export interface EmbeddingArgs extends LayerArgs {
  /** The vocabulary size: indices must lie in [0, inputDim). */
  inputDim: number;
  /** The size of each vector. */
  outputDim: number;
  /** Keras's default 'uniform' is RandomUniform(-0.05, 0.05). */
  embeddingsInitializer?: InitializerIdentifier;
  /** A penalty on the table added to the loss. Default none. */
  embeddingsRegularizer?: Regularizer | string | null;
  /** Index 0 is padding: the output carries the mask `input != 0` (Note [Masks]). */
  maskZero?: boolean;
  /** Keras 2's fixed sequence length, used only to fill an unknown axis 1 in shape inference. */
  inputLength?: number | null;
}

const EMBEDDING_KEYS = ['inputDim', 'outputDim', 'embeddingsInitializer', 'embeddingsRegularizer', 'maskZero', 'inputLength'];

/**
 * Looks up a learned vector per integer index: int inputs of any shape [...] give
 * [..., outputDim] (one gather on the [inputDim, outputDim] table; its gradient is a scatter-add).
 * Float inputs are truncated to int32, as Keras casts them.
 */
export class Embedding extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Embedding';
  /** The vocabulary size. */
  readonly inputDim: number;
  /** The size of each vector. */
  readonly outputDim: number;
  /** Whether index 0 is padding (masked). */
  readonly maskZero: boolean;
  /** Keras 2's fixed sequence length, or null. */
  readonly inputLength: number | null;
  private readonly args: EmbeddingArgs;
  /** The table, [inputDim, outputDim]; null until built. */
  embeddings: Tensor | null = null;
  private readonly initializer: InitializerIdentifier;

  constructor(args: EmbeddingArgs) {
    super(args as EmbeddingArgs & Record<string, unknown>, EMBEDDING_KEYS);
    this.inputDim = positiveInt(this.name, 'inputDim', args.inputDim);
    this.outputDim = positiveInt(this.name, 'outputDim', args.outputDim);
    if (args.maskZero !== undefined && typeof args.maskZero !== 'boolean') {
      throw new ValueError(`${this.name}: maskZero must be a boolean; received ${fmtValue(args.maskZero)}`);
    }
    this.maskZero = args.maskZero ?? false;
    this.inputLength = args.inputLength == null ? null : positiveInt(this.name, 'inputLength', args.inputLength);
    this.args = args;
    this.initializer = args.embeddingsInitializer ?? 'uniform';
  }

  override build(_inputShape: Shape | Shape[]): void {
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], {
      initializer: this.initializer,
      regularizer: this.args.embeddingsRegularizer,
    });
  }

  /** The table does not depend on the input shape: any shape of indices is accepted. */
  protected override checkInput(_shapes: Shape[]): void {}

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const idx = this.indices(inputs as Tensor);
    return gather(this.embeddings!, idx, 0);
  }

  /** int32 indices, each checked to lie in [0, inputDim) (gather alone would accept negatives). */
  private indices(x: Tensor): Tensor {
    const idx = x.dtype === 'int32' ? x : cast(x, 'int32');
    // Indices a GPU computed are not read back to be checked: the gather kernel gives 0 rows for them.
    const values = (idx.hostValues() as Int32Array | undefined) ?? new Int32Array(0);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < 0 || v >= this.inputDim) {
        throw new ValueError(
          `${this.name}: indices must lie in [0, inputDim = ${this.inputDim}); received ${v} at flat position ${i} of an input of shape ${fmtShape(x.shape)}`,
        );
      }
    }
    return idx;
  }

  /** With maskZero, index 0 marks padding: the mask is true where the input is not 0. */
  override computeMask(inputs: Tensor | Tensor[], _mask: Tensor | (Tensor | null)[] | null): Tensor | null {
    return this.maskZero ? notEqual(inputs as Tensor, 0) : null;
  }

  /** Float vectors (the layer's dtype) even for int indices. */
  protected override computeOutputDtype(_inputDtypes: DType[]): DType {
    return this.dtype;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = [...singleShape(this.name, inputShape)];
    if (this.inputLength !== null && s.length >= 2 && s[1] === null) s[1] = this.inputLength;
    return [...s, this.outputDim];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: weightConfig.initializer(this.initializer),
      embeddingsRegularizer: weightConfig.regularizer(this.args.embeddingsRegularizer),
      maskZero: this.maskZero,
      inputLength: this.inputLength,
    };
  }
}

registerLayer('Embedding', (c) => new Embedding(c as unknown as EmbeddingArgs));
