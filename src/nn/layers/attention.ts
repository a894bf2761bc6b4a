import type { DType } from '../../core/dtype.js';
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { broadcastShapes } from '../../core/shape.js';
import { add, cast, greaterEqual, logicalAnd, mul, where } from '../../ops/elementwise.js';
import { fusedMatMul } from '../../ops/fused.js';
import { matmul } from '../../ops/linalg.js';
import { softmax } from '../../ops/nn.js';
import { asTensor, type TensorInput } from '../../ops/operand.js';
import { broadcastTo, reshape, transpose } from '../../ops/shape-ops.js';
import { arange, full } from '../../tensor/create.js';
import { Tensor } from '../../tensor/tensor.js';
import type { InitializerIdentifier } from '../initializers.js';
import { Layer, isShapeList, knownDim, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Regularizer } from '../regularizers.js';
import { formatShape, isSymbolic, type Shape, type SymbolicTensor } from '../symbolic.js';
import { Dropout } from './core.js';
import { positiveInt, weightConfig } from './dense.js';

/** Options of `st.layers.multiHeadAttention`. */
export interface MultiHeadAttentionArgs extends LayerArgs {
  /** The number of attention heads. */
  numHeads: number;
  /** Size of each head's query and key projection. */
  keyDim: number;
  /** Size of each head's value projection; defaults to keyDim. */
  valueDim?: number | null;
  /** Dropout rate on the attention probabilities (training only). */
  dropout?: number;
  /** Whether the four projections have biases. Default true. */
  useBias?: boolean;
  /** The output's trailing shape; defaults to the query's last dimension. */
  outputShape?: number | readonly number[] | null;
  /** Only Keras's default (attention over axis 1 of [batch, time, features]) is supported. */
  attentionAxes?: number | readonly number[] | null;
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
}

/** @inline */
type AttentionInput = Tensor | SymbolicTensor | TensorInput;

/** `mha.apply(query, options)`: the other inputs travel as options, as in Keras. */
export interface AttentionCallOptions extends CallOptions {
  /** [batch, Tv, valueFeatures]; defaults to the query (self-attention). */
  value?: AttentionInput;
  /** [batch, Tv, keyFeatures]; defaults to the value. */
  key?: AttentionInput;
  /** bool [batch, Tq, Tv] (broadcastable): true where a query may attend to a key. */
  attentionMask?: AttentionInput;
  /** Adds the lower-triangular mask: position i attends to j <= i only. */
  useCausalMask?: boolean;
  /** Returns [output, scores [batch, heads, Tq, Tv]] instead of the output. */
  returnAttentionScores?: boolean;
}

const MHA_KEYS = [
  'numHeads',
  'keyDim',
  'valueDim',
  'dropout',
  'useBias',
  'outputShape',
  'attentionAxes',
  'kernelInitializer',
  'biasInitializer',
  'kernelRegularizer',
  'biasRegularizer',
  'seed',
];

/** What masked scores become before the softmax (Keras's large negative number for float32). */
const MASKED_SCORE = -1e9;

// Note [Attention inputs as a list]
// Keras passes value and key beside the query. Layer.apply records only its `inputs` as a
// node's inputs; a SymbolicTensor hidden in the options would neither be replayed by the
// model nor saved. So apply() moves value, key (and a symbolic attentionMask) into a list
// [query, value, key, attentionMask?] before handing it to Layer.apply: functional models
// then record every input, and a model's replay calls apply([q, v, k, m]) with tensors.
// A single tensor (no value, or value === query) stays a single input: self-attention.

/**
 * Keras's MultiHeadAttention on [batch, time, features]: per-head projections (kernels
 * [dim, heads, keyDim] as EinsumDense lays them out), softmax(Q Kᵀ / sqrt(keyDim)) over the
 * keys with masked positions set to a large negative number, dropout, the weighted values,
 * and an output projection [heads, valueDim, outputDim].
 */
export class MultiHeadAttention extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className: string = 'MultiHeadAttention';
  override supportsMasking = true;
  /** The number of heads. */
  readonly numHeads: number;
  /** Each head's query and key size. */
  readonly keyDim: number;
  /** Each head's value size. */
  readonly valueDim: number;
  /** The dropout rate on the attention probabilities. */
  readonly dropout: number;
  /** Whether the projections have biases. */
  readonly useBias: boolean;
  /** The output's trailing shape, or null for the query's last dimension. */
  readonly outputShape: readonly number[] | null;
  /** The dropout's seed, or null for the global stream. */
  readonly seed: number | null;
  private readonly args: MultiHeadAttentionArgs;
  private readonly dropoutLayer: Dropout | null;
  /** Feature sizes of query, value and key the weights were built for. */
  protected dims: { query: number; value: number; key: number } | null = null;
  protected weightsByRole: Record<'query' | 'key' | 'value' | 'output', { kernel: Tensor; bias: Tensor | null }> | null = null;
  /** Whether the current apply() returns the scores too (read by computeOutputShape and computeMask). */
  private returnScores = false;
  /**
   * Heads of the key and value projections: numHeads here; fewer in grouped-query attention,
   * whose key/value heads are each repeated for a group of consecutive query heads.
   */
  protected keyValueHeads: number;

  /** `ownKeys` lets a subclass (GroupQueryAttention) check its own option names instead. */
  constructor(args: MultiHeadAttentionArgs, ownKeys: readonly string[] = MHA_KEYS) {
    super(args as MultiHeadAttentionArgs & Record<string, unknown>, ownKeys);
    this.numHeads = positiveInt(this.name, 'numHeads', args.numHeads);
    this.keyValueHeads = this.numHeads;
    this.keyDim = positiveInt(this.name, 'keyDim', args.keyDim);
    this.valueDim = args.valueDim == null ? this.keyDim : positiveInt(this.name, 'valueDim', args.valueDim);
    const rate = args.dropout ?? 0;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1))
      throw new ValueError(`${this.name}: dropout must be a number in [0, 1); received ${fmtValue(args.dropout)}`);
    this.dropout = rate;
    this.useBias = args.useBias ?? true;
    this.outputShape = parseOutputShape(this.name, args.outputShape);
    const axes = args.attentionAxes;
    const axesList = axes == null ? null : typeof axes === 'number' ? [axes] : [...axes];
    if (axesList !== null && !(axesList.length === 1 && (axesList[0] === 1 || axesList[0] === -2))) {
      throw new ValueError(
        `${this.name}: only the default attentionAxes (null: attention over axis 1 of [batch, time, features]) is supported; received ${fmtValue(axes)}`,
      );
    }
    if (args.seed != null && !Number.isInteger(args.seed))
      throw new ValueError(`${this.name}: seed must be an integer; received ${fmtValue(args.seed)}`);
    this.seed = args.seed ?? null;
    this.dropoutLayer = rate > 0 ? new Dropout({ rate, seed: this.seed, name: `${this.name}_dropout` }) : null;
    this.args = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = isShapeList(inputShape) ? inputShape : [inputShape];
    const q = shapes[0],
      v = shapes[1] ?? q,
      k = shapes[2] ?? v;
    for (const s of [q, v, k]) this.checkRank(s);
    const dims = {
      query: knownDim(this.name, q, -1, 'query feature size'),
      value: knownDim(this.name, v, -1, 'value feature size'),
      key: knownDim(this.name, k, -1, 'key feature size'),
    };
    const h = this.numHeads;
    const outDims = this.outputShape ?? [dims.query];
    const kernelInit = this.args.kernelInitializer ?? 'glorotUniform',
      biasInit = this.args.biasInitializer ?? 'zeros';
    // Keras's order: query, key, value, output; each kernel then its bias.
    const make = (role: string, kernelShape: readonly number[], biasShape: readonly number[]) => ({
      kernel: this.addWeight(`${role}/kernel`, kernelShape, { initializer: kernelInit, regularizer: this.args.kernelRegularizer }),
      bias: this.useBias ? this.addWeight(`${role}/bias`, biasShape, { initializer: biasInit, regularizer: this.args.biasRegularizer }) : null,
    });
    const query = make('query', [dims.query, h, this.keyDim], [h, this.keyDim]);
    const key = make('key', [dims.key, h, this.keyDim], [h, this.keyDim]);
    const value = make('value', [dims.value, h, this.valueDim], [h, this.valueDim]);
    const output = make('attention_output', [h, this.valueDim, ...outDims], outDims);
    this.weightsByRole = { query, key, value, output };
    this.dims = dims;
  }

  private checkRank(s: Shape): void {
    if (s.length !== 3) throw new ShapeError(`${this.name}: expected inputs of rank 3 [batch, time, features]; received shape ${formatShape(s)}`);
  }

  /** Query, value and key may change their time length between calls, not their feature sizes. */
  protected override checkInput(shapes: Shape[]): void {
    const q = shapes[0],
      v = shapes[1] ?? q,
      k = shapes[2] ?? v;
    [q, v, k].forEach((s) => this.checkRank(s));
    const d = this.dims;
    if (!d) return;
    const check = (what: string, s: Shape, want: number) => {
      if (s[2] !== null && s[2] !== want)
        throw new ShapeError(`${this.name}: was built for ${what} features of size ${want}; received ${what} of shape ${formatShape(s)}`);
    };
    check('query', q, d.query);
    check('value', v, d.value);
    check('key', k, d.key);
    if (v[1] !== null && k[1] !== null && v[1] !== k[1])
      throw new ShapeError(`${this.name}: key and value must have one time length; received key ${formatShape(k)} and value ${formatShape(v)}`);
  }

  /** Records the attention on symbolic tensors, returning [output, scores]. */
  override apply(inputs: SymbolicTensor, options: AttentionCallOptions & { returnAttentionScores: true }): [SymbolicTensor, SymbolicTensor];
  /** Computes the attention and returns [output, scores [batch, heads, Tq, Tv]]. */
  override apply(inputs: TensorInput, options: AttentionCallOptions & { returnAttentionScores: true }): [Tensor, Tensor];
  /**
   * Records the attention of `query` (the input) over value and key, given as options, for a
   * functional model.
   */
  override apply(inputs: SymbolicTensor | SymbolicTensor[], options?: AttentionCallOptions): SymbolicTensor;
  /**
   * Computes the attention of `query` (the input, [batch, Tq, features]) over value and key, given
   * as options (self-attention when absent).
   * @throws ShapeError for inputs not of rank 3, or feature sizes other than the layer was built for.
   */
  override apply(inputs: TensorInput | Tensor[], options?: AttentionCallOptions): Tensor;
  override apply(inputs: TensorInput | AttentionInput[] | SymbolicTensor, options: AttentionCallOptions = {}): unknown {
    const { value, key, attentionMask, ...rest } = options;
    this.returnScores = rest.returnAttentionScores === true;
    // A list is the form a functional model replays (Note [Attention inputs as a list]).
    if (Array.isArray(inputs) && inputs.length > 0 && inputs.every((x) => x instanceof Tensor || isSymbolic(x))) {
      if (inputs.length < 2 || inputs.length > 4)
        throw new ValueError(`${this.name}: a list input must be [query, value, key?, attentionMask?]; received ${inputs.length} tensors`);
      if (value !== undefined || key !== undefined)
        throw new ValueError(`${this.name}: give value and key either in the input list or as options, not both`);
      return super.apply(inputs as Tensor[], attentionMask === undefined ? rest : { ...rest, attentionMask });
    }
    const symbolic = isSymbolic(inputs);
    const norm = (x: AttentionInput, what: string): Tensor | SymbolicTensor =>
      x instanceof Tensor || isSymbolic(x) ? x : asTensor(this.name, what, x);
    const query = norm(inputs as AttentionInput, 'query');
    const parts: (Tensor | SymbolicTensor)[] = [query];
    const v = value === undefined ? query : norm(value, 'value');
    const k = key === undefined ? v : norm(key, 'key');
    if (v !== query || k !== query) parts.push(v);
    if (k !== v) parts.push(k);
    if (attentionMask !== undefined && isSymbolic(attentionMask)) {
      while (parts.length < 3) parts.push(parts[parts.length - 1]);
      parts.push(attentionMask);
    } else if (attentionMask !== undefined) {
      if (symbolic)
        throw new ValueError(
          `${this.name}: in a functional model, attentionMask must be a symbolic tensor (an st.layers.input() or a layer output), so the model can replay and save it`,
        );
      rest.attentionMask = norm(attentionMask, 'attentionMask');
    }
    if (parts.length === 1) return super.apply(query as Tensor, rest);
    return super.apply(parts as Tensor[], rest);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor | Tensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const query = list[0],
      value = list[1] ?? query,
      key = list[2] ?? value;
    const given = options.mask as Tensor | (Tensor | null)[] | null | undefined;
    const masks = Array.isArray(given) ? given : [given ?? null];
    // Keras: the value's mask defaults with the value, the key's with the key.
    const queryMask = masks[0] ?? null;
    const valueMask = list.length > 1 ? (masks[1] ?? null) : queryMask;
    const keyMask = list.length > 2 ? (masks[2] ?? null) : valueMask;
    const explicit = list[3] ?? (options.attentionMask as Tensor | undefined) ?? null;
    const [B, Tq] = query.shape,
      Tv = value.shape[1];
    if (value.shape[0] !== B || key.shape[0] !== B)
      throw new ShapeError(
        `${this.name}: query, value and key must have one batch size; received ${formatShape(query.shape)}, ${formatShape(value.shape)}, ${formatShape(key.shape)}`,
      );
    const mask = this.attentionMask(B, Tq, Tv, queryMask, valueMask, keyMask, explicit, options.useCausalMask === true);
    const { output, scores } = this.attend(query, value, key, mask, options.training === true);
    return options.returnAttentionScores === true ? [output, scores] : output;
  }

  /**
   * One bool [B or 1, Tq or 1, Tv] mask from the query/value/key masks, the causal mask and
   * the explicit attentionMask (Keras combines them with AND), or null when nothing is masked.
   */
  private attentionMask(
    B: number,
    Tq: number,
    Tv: number,
    queryMask: Tensor | null,
    valueMask: Tensor | null,
    keyMask: Tensor | null,
    explicit: Tensor | null,
    causal: boolean,
  ): Tensor | null {
    const parts: Tensor[] = [];
    const seqMask = (m: Tensor, what: string, shape: number[]) => {
      if (m.rank !== 2 || m.shape[0] !== B)
        throw new ShapeError(
          `${this.name}: the ${what} mask must be [batch, time] = [${B}, ${shape[1] === 1 ? Tv : Tq}]; received ${formatShape(m.shape)}`,
        );
      return reshape(cast(m, 'bool'), shape);
    };
    if (queryMask) parts.push(seqMask(queryMask, 'query', [B, Tq, 1]));
    if (valueMask) parts.push(seqMask(valueMask, 'value', [B, 1, Tv]));
    if (keyMask && keyMask !== valueMask) parts.push(seqMask(keyMask, 'key', [B, 1, Tv]));
    if (causal)
      parts.push(reshape(greaterEqual(reshape(arange(0, Tq, 1, 'int32'), [Tq, 1]), reshape(arange(0, Tv, 1, 'int32'), [1, Tv])), [1, Tq, Tv]));
    if (explicit) {
      const ok = explicit.rank <= 3 && tryBroadcast(explicit.shape, [B, Tq, Tv]);
      if (!ok)
        throw new ShapeError(
          `${this.name}: attentionMask must broadcast to [batch, Tq, Tv] = [${B}, ${Tq}, ${Tv}]; received ${formatShape(explicit.shape)}`,
        );
      parts.push(cast(explicit, 'bool'));
    }
    if (parts.length === 0) return null;
    return parts.reduce((a, b) => logicalAnd(a, b));
  }

  /**
   * The attention itself. Heads are laid out as [heads, batch] in one leading axis so that the
   * score products are single batched matmuls and the [B, Tq, Tv] mask broadcasts over the
   * heads as a leading axis in one `where` (a contiguous broadcast, the native fast path).
   */
  private attend(query: Tensor, value: Tensor, key: Tensor, mask: Tensor | null, training: boolean): { output: Tensor; scores: Tensor } {
    const w = this.weightsByRole!;
    const h = this.numHeads,
      B = query.shape[0],
      Tq = query.shape[1],
      Tv = value.shape[1];
    // Keras scales the projected query by 1/sqrt(keyDim) before the product.
    const q = this.project(query, w.query, this.keyDim, 1 / Math.sqrt(this.keyDim));
    const k = this.repeatHeads(this.project(key, w.key, this.keyDim, undefined, this.keyValueHeads));
    const v = this.repeatHeads(this.project(value, w.value, this.valueDim, undefined, this.keyValueHeads));
    let logits = matmul(q, k, false, true); // [h·B, Tq, Tv]
    if (mask) logits = add(reshape(logits, [h, B, Tq, Tv]), maskBias(mask, B, Tq, Tv, logits.dtype));
    const probs = softmax(logits, -1);
    const dropped = training && this.dropoutLayer ? this.dropoutLayer.call(probs, { training }) : probs;
    const context = matmul(reshape(dropped, [h * B, Tq, Tv]), v); // [h·B, Tq, valueDim]
    const merged = reshape(transpose(reshape(context, [h, B, Tq, this.valueDim]), [1, 2, 0, 3]), [B * Tq, h * this.valueDim]);
    const outDims = w.output.kernel.shape.slice(2);
    const outSize = outDims.reduce((a, b) => a * b, 1);
    const y = dense(merged, reshape(w.output.kernel, [h * this.valueDim, outSize]), w.output.bias && reshape(w.output.bias, [outSize]));
    const output = reshape(y, [B, Tq, ...outDims]);
    const scores = this.returnScores ? transpose(reshape(probs, [h, B, Tq, Tv]), [1, 0, 2, 3]) : probs;
    return { output, scores };
  }

  /** x [B, T, d] through a kernel [d, heads, n] (+ bias [heads, n]) to [heads·B, T, n]. */
  private project(x: Tensor, w: { kernel: Tensor; bias: Tensor | null }, n: number, scale?: number, heads = this.numHeads): Tensor {
    const [B, T, d] = x.shape,
      h = heads;
    let y = dense(reshape(x, [B * T, d]), reshape(w.kernel, [d, h * n]), w.bias && reshape(w.bias, [h * n]));
    if (scale !== undefined) y = mul(y, scale);
    return reshape(transpose(reshape(y, [B, T, h, n]), [2, 0, 1, 3]), [h * B, T, n]);
  }

  /**
   * [kvHeads·B, T, n] to [numHeads·B, T, n], each key/value head repeated for its group of
   * numHeads / kvHeads consecutive query heads (Keras's ops.repeat on the heads axis).
   */
  private repeatHeads(x: Tensor): Tensor {
    const g = this.keyValueHeads,
      h = this.numHeads;
    if (g === h) return x;
    const [gB, T, n] = x.shape;
    const B = gB / g;
    return reshape(broadcastTo(reshape(x, [g, 1, B, T, n]), [g, h / g, B, T, n]), [h * B, T, n]);
  }

  /** The output keeps the query's mask (Keras's supports_masking); the scores carry none. */
  override computeMask(_inputs: Tensor | Tensor[], mask: Tensor | (Tensor | null)[] | null): Tensor | (Tensor | null)[] | null {
    const queryMask = Array.isArray(mask) ? (mask[0] ?? null) : mask;
    return this.returnScores ? [queryMask, null] : queryMask;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const shapes = isShapeList(inputShape) ? inputShape : [inputShape];
    const q = shapes[0],
      v = shapes[1] ?? q;
    this.checkRank(q);
    const out: Shape = [q[0], q[1], ...(this.outputShape ?? [q[2]])];
    return this.returnScores ? [out, [q[0], this.numHeads, q[1], v[1]]] : out;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      dropout: this.dropout,
      useBias: this.useBias,
      outputShape: this.outputShape,
      attentionAxes: null,
      kernelInitializer: weightConfig.initializer(this.args.kernelInitializer ?? 'glorotUniform'),
      biasInitializer: weightConfig.initializer(this.args.biasInitializer ?? 'zeros'),
      kernelRegularizer: weightConfig.regularizer(this.args.kernelRegularizer),
      biasRegularizer: weightConfig.regularizer(this.args.biasRegularizer),
      seed: this.seed,
    };
  }
}

/**
 * The mask as an additive bias (0 where attended, MASKED_SCORE elsewhere), as Keras's masked
 * softmax does. It is made on the small [B, Tq, Tv] mask, not the [heads, B, Tq, Tv] scores, and
 * broadcast to [B, Tq, Tv] (or kept [1, Tq, Tv]) so that adding it over the leading heads axis
 * is a contiguous broadcast: one pass on the native backend, and no gradient to compute for it.
 */
function maskBias(mask: Tensor, B: number, Tq: number, Tv: number, dtype: DType): Tensor {
  const full = mask.shape[0] === 1 && mask.shape[1] === Tq ? mask : broadcastTo(mask, [B, Tq, Tv]);
  return where(full, zerosScalar(dtype), MASKED_SCORE);
}

const zerosScalar = (dtype: DType) => full([], 0, dtype);

function parseOutputShape(layer: string, s: number | readonly number[] | null | undefined): readonly number[] | null {
  if (s == null) return null;
  const list = typeof s === 'number' ? [s] : s;
  if (!Array.isArray(list) || list.length === 0)
    throw new ValueError(`${layer}: outputShape must be a positive integer or a non-empty array of them; received ${fmtValue(s)}`);
  return list.map((d) => positiveInt(layer, 'outputShape', d));
}

function tryBroadcast(a: readonly number[], target: readonly number[]): boolean {
  try {
    const s = broadcastShapes('attentionMask', a, target);
    return s.length === target.length && s.every((d, i) => d === target[i]);
  } catch {
    return false;
  }
}

registerLayer('MultiHeadAttention', (c) => new MultiHeadAttention(c as unknown as MultiHeadAttentionArgs));

/** x·kernel (+ bias): one fused kernel with a bias where the backend has it, as a dense layer. */
function dense(x: Tensor, kernel: Tensor, bias: Tensor | null): Tensor {
  return bias ? fusedMatMul({ a: x, b: kernel, bias }) : matmul(x, kernel);
}
