// Keras 3's Attention (Luong-style dot-product) and AdditiveAttention (Bahdanau-style) layers,
// applied to [query, value] or [query, value, key] ([batch, Tq, dim], [batch, Tv, dim]):
//   Attention, 'dot':     scores = q kᵀ (· scale, a learned scalar, with useScale)
//   Attention, 'concat':  scores = concat_score_weight · Σ_d tanh(scale · (q_i + k_j))  (scale 1 without useScale)
//   AdditiveAttention:    scores = Σ_d scale_d · tanh(q_i + k_j)  (scale [dim], with useScale, Keras's default)
// then, as Keras's _apply_scores: masked scores (value mask, causal mask) lose 1e9, a softmax over
// Tv, dropout on the weights while training, weights · value; rows of a masked query become 0.
// Weights (Keras's order): Attention scale [] then concat_score_weight []; AdditiveAttention scale [dim].
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { add, cast, logicalAnd, mul, sub, tanh } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { softmax } from '../../ops/nn.js';
import { dropout as dropoutOp } from '../../ops/random-extra.js';
import { sum } from '../../ops/reduction.js';
import { reshape, transpose } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape, type SymbolicTensor } from '../symbolic.js';
import { flag, rate } from './recurrent-base.js';

/** What Keras subtracts from a masked score (float32). */
const MASKED = 1e9;

/** Call options of the attention layers (besides the mask [queryMask, valueMask], which Keras also takes). */
export interface ScoreAttentionCallOptions extends CallOptions {
  /** Returns [output, attention weights [batch, Tq, Tv]] instead of the output. */
  returnAttentionScores?: boolean;
  /** Query position i attends to value positions j <= i only. */
  useCausalMask?: boolean;
}

/** Options shared by `st.layers.attention` and `st.layers.additiveAttention`. */
export interface ScoreAttentionArgs extends LayerArgs {
  /** Learn a scale of the scores (Attention: a scalar, default false; AdditiveAttention: [dim], default true). */
  useScale?: boolean;
  /** Dropout rate on the attention weights while training. Default 0. */
  dropout?: number;
  /** Seed of the dropout (the global seeded stream when absent). */
  seed?: number | null;
}

/** Options of `st.layers.attention`. */
export interface AttentionArgs extends ScoreAttentionArgs {
  /** 'dot' (default) or 'concat' (Keras's score modes). */
  scoreMode?: 'dot' | 'concat';
}

/** The scoring, masking, softmax and output both layers share. */
abstract class ScoreAttention extends Layer {
  override supportsMasking = true;
  /** Whether the scores have a learned scale. */
  readonly useScale: boolean;
  /** The dropout rate on the attention weights. */
  readonly dropout: number;
  /** The dropout seed, or null. */
  readonly seed: number | null;
  /** The learned scale; null until built or without useScale. */
  scale: Tensor | null = null;
  private returnScores = false;
  private calls = 0;

  protected constructor(args: ScoreAttentionArgs, ownKeys: readonly string[], useScaleDefault: boolean) {
    super(args as ScoreAttentionArgs & Record<string, unknown>, ['useScale', 'dropout', 'seed', ...ownKeys]);
    this.useScale = flag(this.name, 'useScale', args.useScale, useScaleDefault);
    this.dropout = rate(this.name, 'dropout', args.dropout);
    if (args.seed !== undefined && args.seed !== null && !Number.isInteger(args.seed))
      throw new ValueError(`${this.name}: seed must be an integer or null; received ${fmtValue(args.seed)}`);
    this.seed = args.seed ?? null;
  }

  /** The raw scores [batch, Tq, Tv] of query [B, Tq, d] against key [B, Tv, d]. */
  protected abstract scores(query: Tensor, key: Tensor): Tensor;

  /** [query, value, key?] shapes, checked. */
  protected inputShapes(inputShape: Shape | Shape[]): Shape[] {
    const list = Array.isArray(inputShape[0]) ? (inputShape as Shape[]) : null;
    if (!list || list.length < 2 || list.length > 3) {
      throw new ValueError(`${this.name}: the input must be a list [query, value] or [query, value, key]; received ${fmtValue(inputShape)}`);
    }
    for (const [i, s] of list.entries()) {
      if (s.length !== 3) throw new ShapeError(`${this.name}: input ${i} must have rank 3 [batch, steps, dim]; received ${formatShape(s)}`);
    }
    const [q, v, k = v] = list;
    if (v[1] !== null && k[1] !== null && v[1] !== k[1])
      throw new ShapeError(`${this.name}: value and key must have the same number of steps; received ${formatShape(v)} and ${formatShape(k)}`);
    if (q[2] !== null && k[2] !== null && q[2] !== k[2])
      throw new ShapeError(`${this.name}: query and key must have the same last dimension; received ${formatShape(q)} and ${formatShape(k)}`);
    return list;
  }

  /** Records whether this call returns the attention weights too (read by computeOutputShape and computeMask). */
  override apply(inputs: SymbolicTensor[], options?: ScoreAttentionCallOptions): SymbolicTensor;
  override apply(inputs: Tensor[], options?: ScoreAttentionCallOptions): Tensor;
  override apply(inputs: Tensor[] | SymbolicTensor[], options: ScoreAttentionCallOptions = {}): unknown {
    this.returnScores = options.returnAttentionScores === true;
    return super.apply(inputs as Tensor[], options);
  }

  call(inputs: Tensor | Tensor[], options: ScoreAttentionCallOptions): Tensor | Tensor[] {
    if (!Array.isArray(inputs)) throw new ValueError(`${this.name}: the input must be a list [query, value] or [query, value, key]`);
    this.inputShapes(inputs.map((t) => t.shape));
    const dtype = this.dtype;
    const [query, value, key = value] = inputs.map((t) => (t.dtype === dtype ? t : cast(t, dtype)));
    const masks = Array.isArray(options.mask) ? (options.mask as (Tensor | null | undefined)[]) : [];
    const [queryMask, valueMask] = masks;
    let scores = this.scores(query, key);
    const [batch, tq, tv] = scores.shape;
    let allowed: Tensor | null = valueMask ? reshape(cast(valueMask, 'bool'), [batch, 1, tv]) : null;
    if (options.useCausalMask === true) {
      const lower = Array.from({ length: tq * tv }, (_, i) => Math.floor(i / tv) >= i % tv);
      const causal = tensor(lower, [1, tq, tv], 'bool');
      allowed = allowed ? logicalAnd(allowed, causal) : causal;
    }
    if (allowed) scores = sub(scores, mul(sub(1, cast(allowed, dtype)), MASKED));
    let weights = softmax(scores, -1);
    if (options.training === true && this.dropout > 0)
      weights = dropoutOp(weights, this.dropout, undefined, this.seed === null ? undefined : this.seed + this.calls++);
    let result = matmul(weights, value);
    if (queryMask) result = mul(result, reshape(cast(queryMask, dtype), [batch, tq, 1]));
    return options.returnAttentionScores === true ? [result, weights] : result;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const [q, v, k = v] = this.inputShapes(inputShape);
    const out: Shape = [q[0], q[1], v[2]];
    return this.returnScores ? [out, [q[0], q[1], k[1]]] : out;
  }

  /** The output's mask is the query's (Keras). */
  override computeMask(_inputs: Tensor | Tensor[], mask: Tensor | (Tensor | null)[] | null): Tensor | (Tensor | null)[] | null {
    const q = Array.isArray(mask) ? (mask[0] ?? null) : null;
    return this.returnScores ? [q, null] : q;
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), useScale: this.useScale, dropout: this.dropout, seed: this.seed };
  }
}

/** Keras's Attention layer (dot-product or concat scores); see the file's comment. */
export class DotAttention extends ScoreAttention {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Attention';
  /** 'dot' or 'concat'. */
  readonly scoreMode: 'dot' | 'concat';
  /** The learned weight of concat scores; null until built or in 'dot' mode. */
  concatScoreWeight: Tensor | null = null;

  constructor(args: AttentionArgs = {}) {
    super(args, ['scoreMode'], false);
    this.scoreMode = checkOneOf(this.name, 'scoreMode', args.scoreMode ?? 'dot', ['dot', 'concat'] as const);
  }

  override build(inputShape: Shape | Shape[]): void {
    this.inputShapes(inputShape);
    if (this.useScale) this.scale = this.addWeight('scale', [], { initializer: 'ones' });
    if (this.scoreMode === 'concat') this.concatScoreWeight = this.addWeight('concat_score_weight', [], { initializer: 'ones' });
  }

  protected scores(query: Tensor, key: Tensor): Tensor {
    if (this.scoreMode === 'dot') {
      const s = matmul(query, transpose(key, [0, 2, 1]));
      return this.scale ? mul(s, this.scale) : s;
    }
    const pairs = add(
      reshape(query, [query.shape[0], query.shape[1], 1, query.shape[2]]),
      reshape(key, [key.shape[0], 1, key.shape[1], key.shape[2]]),
    );
    return mul(sum(tanh(this.scale ? mul(pairs, this.scale) : pairs), -1), this.concatScoreWeight!);
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), scoreMode: this.scoreMode };
  }
}

/** Keras's AdditiveAttention layer (Bahdanau scores); see the file's comment. */
export class AdditiveAttention extends ScoreAttention {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AdditiveAttention';

  constructor(args: ScoreAttentionArgs = {}) {
    super(args, [], true);
  }

  override build(inputShape: Shape | Shape[]): void {
    const [q] = this.inputShapes(inputShape);
    if (q[2] === null) throw new ShapeError(`${this.name}: the query's last dimension must be known; received ${formatShape(q)}`);
    if (this.useScale) this.scale = this.addWeight('scale', [q[2]], { initializer: 'glorotUniform' });
  }

  protected scores(query: Tensor, key: Tensor): Tensor {
    const pairs = tanh(
      add(reshape(query, [query.shape[0], query.shape[1], 1, query.shape[2]]), reshape(key, [key.shape[0], 1, key.shape[1], key.shape[2]])),
    );
    return sum(this.scale ? mul(pairs, this.scale) : pairs, -1);
  }
}

registerLayer('Attention', (c) => new DotAttention(c as AttentionArgs));
registerLayer('AdditiveAttention', (c) => new AdditiveAttention(c as ScoreAttentionArgs));

/** The factories, spread into `st.layers` (Keras's names in camelCase). */
export const scoreAttentionLayers = {
  /**
   * Dot-product attention (Keras's Attention layer) of a query over [query, value] or
   * [query, value, key]: softmax(q kᵀ) · value; 'concat' scores and a learned scale as options.
   * @example
   * ```ts
   * const q = st.randomNormal([2, 3, 4]), v = st.randomNormal([2, 5, 4]);
   * console.log(st.layers.attention().apply([q, v]).shape); // [2, 3, 4]
   * ```
   */
  attention: (args: AttentionArgs = {}) => new DotAttention(args),
  /** Additive (Bahdanau) attention (Keras's AdditiveAttention): scores Σ scale · tanh(q + k). */
  additiveAttention: (args: ScoreAttentionArgs = {}) => new AdditiveAttention(args),
};
