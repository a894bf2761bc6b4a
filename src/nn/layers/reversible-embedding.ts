// Keras 3's ReversibleEmbedding: an Embedding that can also project hidden states back to
// vocabulary logits, by default with its own table transposed (tied weights, as language models do).
import { isFloat } from '../../core/dtype.js';
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkKeys } from '../../core/options.js';
import { cast, div, mul, tanh } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import type { TensorInput } from '../../ops/operand.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { InitializerIdentifier } from '../initializers.js';
import { BASE_KEYS, type CallOptions, Layer, type LayerWeight } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Shape, SymbolicTensor } from '../symbolic.js';
import { Embedding, type EmbeddingArgs } from './embedding.js';

/** Options of `st.layers.reversibleEmbedding`. */
export interface ReversibleEmbeddingArgs extends EmbeddingArgs {
  /** Project back with the embedding table transposed (true, the default) or a table of its own. */
  tieWeights?: boolean;
  /** With `{reverse: true}`: logits become tanh(logits / cap) · cap, bounded by ±cap. Default none. */
  logitSoftCap?: number | null;
  /** The dtype of the reverse projection; default the layer's. */
  reverseDtype?: 'float32' | 'float64' | null;
}

const OWN_KEYS = ['tieWeights', 'logitSoftCap', 'reverseDtype'] as const;

/**
 * An Embedding that also runs backwards (Keras's ReversibleEmbedding): `apply(ids)` looks vectors
 * up as Embedding does; `apply(hidden, {reverse: true})` computes hidden · embeddingsᵀ, logits
 * over the vocabulary of shape [..., inputDim]. With `tieWeights: false` the reverse projection
 * has its own weight `reverse_embeddings` [outputDim, inputDim].
 */
export class ReversibleEmbedding extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'ReversibleEmbedding';
  /** The forward lookup: an Embedding of this layer's name, so its table's path is `<name>/embeddings` as in Keras. */
  private readonly lookup: Embedding;
  /** Whether the reverse projection uses the embedding table. */
  readonly tieWeights: boolean;
  /** The soft cap of the reverse logits, or null. */
  readonly logitSoftCap: number | null;
  /** The reverse projection's dtype, or null for the layer's. */
  readonly reverseDtype: 'float32' | 'float64' | null;
  private reverseTable: Tensor | null = null;
  /** Set while a reverse call runs, for the shape and mask it produces. */
  private reversing = false;

  constructor(args: ReversibleEmbeddingArgs) {
    const { tieWeights, logitSoftCap, reverseDtype, ...embedding } = args;
    // The base options are checked here; the embedding's own by the Embedding.
    const base = Object.fromEntries(Object.entries(args).filter(([k]) => BASE_KEYS.includes(k as never)));
    super(base, []);
    this.lookup = new Embedding({ ...embedding, name: this.name, batchInputShape: undefined, inputShape: undefined, batchSize: undefined });
    checkKeys(this.name, { tieWeights, logitSoftCap, reverseDtype }, OWN_KEYS);
    if (tieWeights !== undefined && typeof tieWeights !== 'boolean')
      throw new ValueError(`${this.name}: tieWeights must be a boolean; received ${fmtValue(tieWeights)}`);
    this.tieWeights = tieWeights ?? true;
    const cap = logitSoftCap ?? null;
    if (cap !== null && !(typeof cap === 'number' && cap > 0 && Number.isFinite(cap))) {
      throw new ValueError(`${this.name}: logitSoftCap must be a positive number or null; received ${fmtValue(cap)}`);
    }
    this.logitSoftCap = cap;
    const rd = reverseDtype ?? null;
    if (rd !== null && rd !== 'float32' && rd !== 'float64')
      throw new ValueError(`${this.name}: reverseDtype must be 'float32', 'float64' or null; received ${fmtValue(rd)}`);
    this.reverseDtype = rd;
  }

  /** The vocabulary size. */
  get inputDim(): number {
    return this.lookup.inputDim;
  }
  /** The size of each vector. */
  get outputDim(): number {
    return this.lookup.outputDim;
  }
  /** The table, [inputDim, outputDim]; null until built. */
  get embeddings(): Tensor | null {
    return this.lookup.embeddings;
  }

  /** The embedding table, then (untied) the reverse table. */
  override get weights(): LayerWeight[] {
    return [...this.lookup.weights, ...super.weights];
  }
  override get trainable(): boolean {
    return super.trainable;
  }
  override set trainable(value: boolean) {
    super.trainable = value;
    // Also reached from the Layer constructor, before the lookup exists.
    if (this.lookup) this.lookup.trainable = value;
  }

  override build(inputShape: Shape | Shape[]): void {
    this.lookup.ensureBuilt(inputShape);
    if (!this.tieWeights) {
      this.reverseTable = this.addWeight('reverse_embeddings', [this.outputDim, this.inputDim], {
        // Keras draws it with the embeddings' initializer.
        initializer: this.lookup.getConfig().embeddingsInitializer as InitializerIdentifier,
      });
    }
  }

  /** `{reverse: true}` projects hidden states [..., outputDim] to logits [..., inputDim]. */
  override apply(inputs: SymbolicTensor | SymbolicTensor[], options?: CallOptions): SymbolicTensor;
  override apply(inputs: TensorInput | Tensor[], options?: CallOptions): Tensor;
  override apply(inputs: never, options: CallOptions = {}): never {
    this.reversing = options.reverse === true;
    try {
      return super.apply(inputs, options) as never;
    } finally {
      this.reversing = false;
    }
  }

  override call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    if (options.reverse !== true) return this.lookup.call(inputs, options);
    const x = inputs as Tensor;
    if (!isFloat(x.dtype))
      throw new ValueError(`${this.name}: a reverse call takes float hidden states [..., ${this.outputDim}]; received dtype ${x.dtype}`);
    if (x.shape[x.rank - 1] !== this.outputDim) {
      throw new ValueError(
        `${this.name}: a reverse call takes hidden states whose last axis is outputDim = ${this.outputDim}; received shape [${x.shape.join(', ')}]`,
      );
    }
    const dtype = this.reverseDtype ?? x.dtype;
    const table = this.tieWeights ? this.embeddings! : this.reverseTable!;
    const logits = matmul(cast(x, dtype), cast(table, dtype), false, this.tieWeights);
    return this.logitSoftCap === null ? logits : mul(tanh(div(logits, this.logitSoftCap)), this.logitSoftCap);
  }

  /** Only the forward lookup carries a mask (with maskZero). */
  override computeMask(inputs: Tensor | Tensor[], mask: Tensor | (Tensor | null)[] | null): Tensor | null {
    return this.reversing ? null : this.lookup.computeMask(inputs, mask);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    if (!this.reversing) return this.lookup.computeOutputShape(inputShape);
    const s = inputShape as Shape;
    return [...s.slice(0, -1), this.inputDim];
  }

  /** Any shape of ids is accepted, as Embedding does. */
  protected override checkInput(_shapes: Shape[]): void {}

  protected override computeOutputDtype(): Tensor['dtype'] {
    return this.dtype;
  }

  override getConfig(): Record<string, unknown> {
    const { name: _name, trainable: _trainable, dtype: _dtype, ...embedding } = this.lookup.getConfig();
    return { ...super.getConfig(), ...embedding, tieWeights: this.tieWeights, logitSoftCap: this.logitSoftCap, reverseDtype: this.reverseDtype };
  }
}

registerLayer('ReversibleEmbedding', (c) => new ReversibleEmbedding(c as unknown as ReversibleEmbeddingArgs));
