import type { DType } from '../../core/dtype.js';
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { add, notEqual } from '../../ops/elementwise.js';
import { reshape, slice } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, knownDim, singleShape, type CallOptions, type LayerArgs, type LayerWeight } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { MultiHeadAttention } from './attention.js';
import { Dropout } from './core.js';
import { Dense, positiveInt } from './dense.js';
import { Embedding } from './embedding.js';
import { LayerNormalization } from './normalization.js';

// Note [Layers made of layers]
// Layer keeps only the weights its own addWeight created. A layer built from public layers
// lists its sublayers and overrides `weights` (and `trainable`) to cover them, in sublayer
// order, which is the order Keras tracks them in. Sublayers are named after the outer layer
// (`<name>_attention`, ...) so weight paths stay unique and stable across save/load.

/** The base of layers built from other layers: their weights and trainability are the sublayers'. */
export abstract class CompositeLayer extends Layer {
  /** The sublayers holding weights, in Keras's tracking order. */
  protected abstract readonly sublayers: readonly Layer[];

  override get weights(): LayerWeight[] {
    return [...super.weights, ...this.sublayers.flatMap((l) => l.weights)];
  }

  override get trainable(): boolean {
    return super.trainable;
  }

  override set trainable(value: boolean) {
    super.trainable = value;
    for (const l of this.sublayers ?? []) l.trainable = value;
  }

  /** Sublayers take the outer layer's dtype and trainability. */
  protected sublayerArgs(suffix: string): { name: string; dtype: DType; trainable: boolean } {
    return { name: `${this.name}_${suffix}`, dtype: this.dtype, trainable: this.trainable };
  }
}

/** Options of `st.layers.positionalEmbedding`. */
export interface PositionalEmbeddingArgs extends LayerArgs {
  /** The longest sequence: the position table has this many rows. */
  sequenceLength: number;
  /** The vocabulary size. */
  inputDim: number;
  /** The size of each vector. */
  outputDim: number;
  /** Index 0 is padding and masked (as in Chollet's book, where the mask is always made). */
  maskZero?: boolean;
}

/**
 * Token embedding plus a learned position embedding (Chollet, Deep Learning with Python,
 * ch. 11): token ids [batch, T] with T <= sequenceLength give [batch, T, outputDim].
 * Weights: token embeddings [inputDim, outputDim], then position embeddings [sequenceLength, outputDim].
 */
export class PositionalEmbedding extends CompositeLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'PositionalEmbedding';
  /** The longest sequence (rows of the position table). */
  readonly sequenceLength: number;
  /** The vocabulary size. */
  readonly inputDim: number;
  /** The size of each vector. */
  readonly outputDim: number;
  /** Whether token 0 is padding (masked). */
  readonly maskZero: boolean;
  /** The token table, [inputDim, outputDim]. */
  readonly tokenEmbedding: Embedding;
  /** The position table, [sequenceLength, outputDim]. */
  readonly positionEmbedding: Embedding;
  protected readonly sublayers: readonly Layer[];

  constructor(args: PositionalEmbeddingArgs) {
    super(args as PositionalEmbeddingArgs & Record<string, unknown>, ['sequenceLength', 'inputDim', 'outputDim', 'maskZero']);
    this.sequenceLength = positiveInt(this.name, 'sequenceLength', args.sequenceLength);
    this.inputDim = positiveInt(this.name, 'inputDim', args.inputDim);
    this.outputDim = positiveInt(this.name, 'outputDim', args.outputDim);
    if (args.maskZero !== undefined && typeof args.maskZero !== 'boolean')
      throw new ValueError(`${this.name}: maskZero must be a boolean; received ${fmtValue(args.maskZero)}`);
    this.maskZero = args.maskZero ?? true;
    this.tokenEmbedding = new Embedding({ ...this.sublayerArgs('token_embedding'), inputDim: this.inputDim, outputDim: this.outputDim });
    this.positionEmbedding = new Embedding({ ...this.sublayerArgs('position_embedding'), inputDim: this.sequenceLength, outputDim: this.outputDim });
    this.sublayers = [this.tokenEmbedding, this.positionEmbedding];
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    this.tokenEmbedding.ensureBuilt(shape);
    this.positionEmbedding.ensureBuilt([this.sequenceLength]);
  }

  /** Positions run along the last axis, which may not exceed sequenceLength. */
  protected override checkInput(shapes: Shape[]): void {
    const s = shapes[0];
    const t = s[s.length - 1];
    if (s.length < 1 || (t !== null && t > this.sequenceLength)) {
      throw new ShapeError(
        `${this.name}: expected token ids [..., T] with T <= sequenceLength = ${this.sequenceLength}; received shape ${formatShape(s)}`,
      );
    }
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    const t = x.shape[x.rank - 1];
    const tokens = this.tokenEmbedding.call(x, {});
    // The first T rows of the position table: a slice, whose gradient pads with zeros.
    const positions = slice(this.positionEmbedding.embeddings!, [0, 0], [t, this.outputDim]);
    return add(tokens, positions);
  }

  override computeMask(inputs: Tensor | Tensor[], _mask: Tensor | (Tensor | null)[] | null): Tensor | null {
    return this.maskZero ? notEqual(inputs as Tensor, 0) : null;
  }

  protected override computeOutputDtype(_inputDtypes: DType[]): DType {
    return this.dtype;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [...singleShape(this.name, inputShape), this.outputDim];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), sequenceLength: this.sequenceLength, inputDim: this.inputDim, outputDim: this.outputDim, maskZero: this.maskZero };
  }
}

/** Options of `st.layers.transformerEncoder`. */
export interface TransformerEncoderArgs extends LayerArgs {
  /** The feature size of the inputs and outputs. */
  embedDim: number;
  /** The hidden size of the feed-forward block. */
  denseDim: number;
  /** The number of attention heads. */
  numHeads: number;
  /** Dropout on the attention output and the feed-forward output (training only). */
  dropout?: number;
  /** Per-head key size; Chollet's encoder uses embedDim. */
  keyDim?: number;
}

/**
 * A post-norm transformer encoder block (Chollet, Deep Learning with Python, ch. 11):
 * y = LN1(x + attention(x, x)); out = LN2(y + dense2(relu(dense1(y)))). The input's padding
 * mask (from an embedding with maskZero) masks the attention and passes to the output.
 * Weights: the attention's 8, dense1 kernel/bias, dense2 kernel/bias, LN1 gamma/beta, LN2 gamma/beta.
 */
export class TransformerEncoder extends CompositeLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'TransformerEncoder';
  override supportsMasking = true;
  /** The feature size of inputs and outputs. */
  readonly embedDim: number;
  /** The hidden size of the feed-forward block. */
  readonly denseDim: number;
  /** The number of attention heads. */
  readonly numHeads: number;
  /** The dropout rate while training. */
  readonly dropout: number;
  /** The per-head key size. */
  readonly keyDim: number;
  /** The self-attention sublayer. */
  readonly attention: MultiHeadAttention;
  /** The feed-forward block's first layer (denseDim units, ReLU). */
  readonly dense1: Dense;
  /** The feed-forward block's second layer (embedDim units). */
  readonly dense2: Dense;
  /** The normalization after the attention's residual sum. */
  readonly layerNorm1: LayerNormalization;
  /** The normalization after the feed-forward block's residual sum. */
  readonly layerNorm2: LayerNormalization;
  private readonly dropouts: [Dropout, Dropout] | null;
  protected readonly sublayers: readonly Layer[];

  constructor(args: TransformerEncoderArgs) {
    super(args as TransformerEncoderArgs & Record<string, unknown>, ['embedDim', 'denseDim', 'numHeads', 'dropout', 'keyDim']);
    this.embedDim = positiveInt(this.name, 'embedDim', args.embedDim);
    this.denseDim = positiveInt(this.name, 'denseDim', args.denseDim);
    this.numHeads = positiveInt(this.name, 'numHeads', args.numHeads);
    this.keyDim = args.keyDim === undefined ? this.embedDim : positiveInt(this.name, 'keyDim', args.keyDim);
    const rate = args.dropout ?? 0;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1))
      throw new ValueError(`${this.name}: dropout must be a number in [0, 1); received ${fmtValue(args.dropout)}`);
    this.dropout = rate;
    this.attention = new MultiHeadAttention({ ...this.sublayerArgs('attention'), numHeads: this.numHeads, keyDim: this.keyDim });
    this.dense1 = new Dense({ ...this.sublayerArgs('dense_1'), units: this.denseDim, activation: 'relu' });
    this.dense2 = new Dense({ ...this.sublayerArgs('dense_2'), units: this.embedDim });
    this.layerNorm1 = new LayerNormalization(this.sublayerArgs('layernorm_1'));
    this.layerNorm2 = new LayerNormalization(this.sublayerArgs('layernorm_2'));
    this.dropouts =
      rate > 0 ? [new Dropout({ ...this.sublayerArgs('dropout_1'), rate }), new Dropout({ ...this.sublayerArgs('dropout_2'), rate })] : null;
    this.sublayers = [this.attention, this.dense1, this.dense2, this.layerNorm1, this.layerNorm2];
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    this.checkInput([shape]);
    this.attention.ensureBuilt(shape);
    this.dense1.ensureBuilt(shape);
    this.dense2.ensureBuilt([...shape.slice(0, -1), this.denseDim]);
    this.layerNorm1.ensureBuilt(shape);
    this.layerNorm2.ensureBuilt(shape);
  }

  /** Residual connections need inputs [batch, time, embedDim]. */
  protected override checkInput(shapes: Shape[]): void {
    const s = shapes[0];
    if (shapes.length !== 1 || s.length !== 3 || knownDim(this.name, s, -1, 'feature size') !== this.embedDim) {
      throw new ShapeError(
        `${this.name}: expected one input [batch, time, embedDim = ${this.embedDim}]; received ${shapes.map(formatShape).join(', ')}`,
      );
    }
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const x = inputs as Tensor;
    const training = options.training === true;
    const mask = (options.mask as Tensor | null | undefined) ?? null;
    // Chollet passes the padding mask as the attention mask over the keys; Keras 3 also masks
    // the padded queries, which the query's own mask does when it is attached to x.
    const attentionMask = mask ? reshape(mask, [mask.shape[0], 1, mask.shape[1]]) : undefined;
    let attended = this.attention.apply(x, { training, ...(attentionMask ? { attentionMask } : {}) });
    if (this.dropouts) attended = this.dropouts[0].call(attended, { training });
    const y = this.layerNorm1.apply(add(x, attended), { training });
    let ff = this.dense2.apply(this.dense1.apply(y, { training }), { training });
    if (this.dropouts) ff = this.dropouts[1].call(ff, { training });
    return this.layerNorm2.apply(add(y, ff), { training });
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      embedDim: this.embedDim,
      denseDim: this.denseDim,
      numHeads: this.numHeads,
      dropout: this.dropout,
      keyDim: this.keyDim,
    };
  }
}

registerLayer('PositionalEmbedding', (c) => new PositionalEmbedding(c as unknown as PositionalEmbeddingArgs));
registerLayer('TransformerEncoder', (c) => new TransformerEncoder(c as unknown as TransformerEncoderArgs));
