// Keras 3's GroupQueryAttention (grouped-query attention, Ainslie et al. 2023) on top of
// MultiHeadAttention: the same masks, causal mask, dropout and score softmax; only the weight
// shapes differ, and the key/value heads are fewer and shared by groups of query heads.
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkKeys } from '../../core/options.js';
import type { InitializerIdentifier } from '../initializers.js';
import { BASE_KEYS, isShapeList, knownDim, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Regularizer } from '../regularizers.js';
import type { Shape } from '../symbolic.js';
import { MultiHeadAttention } from './attention.js';
import { positiveInt, weightConfig } from './dense.js';

/** Options of `st.layers.groupQueryAttention` (Keras 3's GroupQueryAttention). */
export interface GroupQueryAttentionArgs extends LayerArgs {
  /** Size of each attention head (query, key and value alike). */
  headDim: number;
  /** The number of query heads. */
  numQueryHeads: number;
  /**
   * The number of key and value heads; must divide numQueryHeads. 1 is multi-query attention,
   * numQueryHeads is multi-head attention.
   */
  numKeyValueHeads: number;
  /** Dropout rate on the attention probabilities (training only). */
  dropout?: number;
  /** Whether the four projections have biases. Default true. */
  useBias?: boolean;
  /** How the projection kernels start. Default 'glorotUniform'. */
  kernelInitializer?: InitializerIdentifier;
  /** How the biases start. Default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
  /** A penalty on the kernels added to the loss. Default none. */
  kernelRegularizer?: Regularizer | string | null;
  /** A penalty on the biases added to the loss. Default none. */
  biasRegularizer?: Regularizer | string | null;
  /** Seed of the attention dropout (the global stream when absent). */
  seed?: number | null;
  /** Keras's sliding-window band; only null (full attention) is supported. */
  slidingWindow?: number | null;
  /** Keras's gated attention; only false is supported. */
  useGate?: boolean;
}

const GQA_KEYS = [
  'headDim',
  'numQueryHeads',
  'numKeyValueHeads',
  'dropout',
  'useBias',
  'kernelInitializer',
  'biasInitializer',
  'kernelRegularizer',
  'biasRegularizer',
  'seed',
  'slidingWindow',
  'useGate',
];

/**
 * Keras 3's GroupQueryAttention on [batch, time, features]: query kernel [dq, numQueryHeads,
 * headDim], key and value kernels [d, numKeyValueHeads, headDim], output kernel [numQueryHeads,
 * headDim, dq]. Each key/value head serves numQueryHeads / numKeyValueHeads consecutive query
 * heads; then softmax(Q Kᵀ / sqrt(headDim)) over the keys, dropout, the weighted values and the
 * output projection back to the query's feature size. Apply it as MultiHeadAttention:
 * `gqa.apply(query, {value, key, attentionMask, useCausalMask, returnAttentionScores})`.
 */
export class GroupQueryAttention extends MultiHeadAttention {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static override readonly className: string = 'GroupQueryAttention';
  /** Size of each head. */
  readonly headDim: number;
  /** The number of query heads. */
  readonly numQueryHeads: number;
  /** The number of key/value heads. */
  readonly numKeyValueHeads: number;
  private readonly gqaArgs: GroupQueryAttentionArgs;

  constructor(args: GroupQueryAttentionArgs) {
    checkKeys('GroupQueryAttention', args, [...BASE_KEYS, ...GQA_KEYS]);
    const { headDim, numQueryHeads, numKeyValueHeads, slidingWindow, useGate, ...rest } = args;
    // Checked under Keras's names before MultiHeadAttention sees them as keyDim and numHeads.
    const owner = args.name ?? 'GroupQueryAttention';
    positiveInt(owner, 'headDim', headDim);
    positiveInt(owner, 'numQueryHeads', numQueryHeads);
    super({ ...rest, numHeads: numQueryHeads, keyDim: headDim });
    this.headDim = this.keyDim;
    this.numQueryHeads = this.numHeads;
    this.numKeyValueHeads = positiveInt(this.name, 'numKeyValueHeads', numKeyValueHeads);
    if (this.numQueryHeads % this.numKeyValueHeads !== 0)
      throw new ValueError(
        `${this.name}: numQueryHeads must be divisible by numKeyValueHeads; received numQueryHeads=${this.numQueryHeads}, numKeyValueHeads=${this.numKeyValueHeads}`,
      );
    if (slidingWindow != null)
      throw new ValueError(`${this.name}: slidingWindow is not supported (only null, full attention); received ${fmtValue(slidingWindow)}`);
    if (useGate != null && useGate !== false)
      throw new ValueError(`${this.name}: useGate is not supported (only false); received ${fmtValue(useGate)}`);
    this.keyValueHeads = this.numKeyValueHeads;
    this.gqaArgs = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = isShapeList(inputShape) ? inputShape : [inputShape];
    const q = shapes[0],
      v = shapes[1] ?? q,
      k = shapes[2] ?? v;
    const dims = {
      query: knownDim(this.name, q, -1, 'query feature size'),
      value: knownDim(this.name, v, -1, 'value feature size'),
      key: knownDim(this.name, k, -1, 'key feature size'),
    };
    const u = this.numQueryHeads,
      g = this.numKeyValueHeads,
      h = this.headDim;
    const kernelInit = this.gqaArgs.kernelInitializer ?? 'glorotUniform',
      biasInit = this.gqaArgs.biasInitializer ?? 'zeros';
    // Keras's order and names: query, key, value, attention_output; each kernel then its bias.
    const make = (role: string, kernelShape: readonly number[], biasShape: readonly number[]) => ({
      kernel: this.addWeight(`${role}/kernel`, kernelShape, { initializer: kernelInit, regularizer: this.gqaArgs.kernelRegularizer }),
      bias: this.useBias ? this.addWeight(`${role}/bias`, biasShape, { initializer: biasInit, regularizer: this.gqaArgs.biasRegularizer }) : null,
    });
    const query = make('query', [dims.query, u, h], [u, h]);
    const key = make('key', [dims.key, g, h], [g, h]);
    const value = make('value', [dims.value, g, h], [g, h]);
    const output = make('attention_output', [u, h, dims.query], [dims.query]);
    this.weightsByRole = { query, key, value, output };
    this.dims = dims;
  }

  override getConfig(): Record<string, unknown> {
    // MultiHeadAttention's own names give way to Keras's GroupQueryAttention names.
    const rest = super.getConfig();
    for (const k of ['numHeads', 'keyDim', 'valueDim', 'outputShape', 'attentionAxes']) delete rest[k];
    return {
      ...rest,
      headDim: this.headDim,
      numQueryHeads: this.numQueryHeads,
      numKeyValueHeads: this.numKeyValueHeads,
      kernelInitializer: weightConfig.initializer(this.gqaArgs.kernelInitializer ?? 'glorotUniform'),
      biasInitializer: weightConfig.initializer(this.gqaArgs.biasInitializer ?? 'zeros'),
    };
  }
}

registerLayer('GroupQueryAttention', (c) => new GroupQueryAttention(c as unknown as GroupQueryAttentionArgs));

/** The grouped-query attention factories, spread into `st.layers`. */
export const groupQueryAttentionLayers = {
  /**
   * Grouped-query attention (Keras 3's GroupQueryAttention): numKeyValueHeads key/value heads,
   * each shared by numQueryHeads / numKeyValueHeads query heads. Apply it as
   * `gqa.apply(query, {value, key, attentionMask, useCausalMask, returnAttentionScores})`.
   */
  groupQueryAttention: (args: GroupQueryAttentionArgs) => new GroupQueryAttention(args),
  /** The same layer under Keras's Python class name spelling (GroupedQueryAttention). */
  groupedQueryAttention: (args: GroupQueryAttentionArgs) => new GroupQueryAttention(args),
};
