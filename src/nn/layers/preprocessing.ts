// Keras's numeric preprocessing layers: CategoryEncoding (integer ids to one-hot, multi-hot or
// count vectors) and Discretization (values to bucket ids). Normalization, the third, has its own
// file (feature-normalization.ts). Neither has weights or a gradient.
import { isFloat } from '../../core/dtype.js';
import { ValueError, fmtValue } from '../../core/errors.js';
import { cast, greaterEqual, mul } from '../../ops/elementwise.js';
import { oneHot } from '../../ops/nn.js';
import { max, sum } from '../../ops/reduction.js';
import { expandDims, reshape } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { TensorInput } from '../../ops/operand.js';
import { asTensor } from '../../ops/operand.js';
import { type CallOptions, Layer, type LayerArgs, singleShape } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Shape } from '../symbolic.js';

/**
 * How ids become vectors: 'one_hot' (one vector per id), 'multi_hot' (1 for every id present in a
 * sample) or 'count' (how often each id occurs); tfjs's camelCase spellings are accepted too.
 * @inline
 */
export type EncodingMode = 'one_hot' | 'multi_hot' | 'count' | 'oneHot' | 'multiHot';

const MODES: Record<string, 'one_hot' | 'multi_hot' | 'count'> = {
  one_hot: 'one_hot',
  oneHot: 'one_hot',
  multi_hot: 'multi_hot',
  multiHot: 'multi_hot',
  count: 'count',
};

function encodingMode(layer: string, v: unknown, fallback: string, extra: string[] = []): string {
  const value = v ?? fallback;
  if (typeof value === 'string' && extra.includes(value)) return value;
  const mode = typeof value === 'string' && Object.hasOwn(MODES, value) ? MODES[value] : undefined;
  if (!mode)
    throw new ValueError(`${layer}: outputMode must be one of ${[...extra, 'one_hot', 'multi_hot', 'count'].join(', ')}; received ${fmtValue(v)}`);
  return mode;
}

function positiveInt(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ValueError(`${layer}: ${name} must be a positive integer; received ${fmtValue(v)}`);
  return v;
}

/**
 * Encodes integer ids in [0, depth) (Keras's rules for the shapes): 'one_hot' appends an axis of
 * `depth` (replacing a last axis of size 1); 'multi_hot' and 'count' reduce the last axis, a
 * sample's ids, to one vector. Ids outside [0, depth) encode as nothing (all zeros) rather than
 * failing: checking them would read the values back from the backend at every call.
 */
function encode(ids: Tensor, depth: number, mode: string, countWeights?: Tensor): Tensor {
  const idx = cast(ids, 'int32');
  if (mode === 'one_hot') {
    const squeezed = idx.rank > 1 && idx.shape[idx.rank - 1] === 1 ? reshape(idx, idx.shape.slice(0, -1)) : idx;
    return oneHot(squeezed, depth);
  }
  const rows = idx.rank === 0 ? reshape(idx, [1]) : idx;
  const hot = oneHot(rows, depth);
  if (mode === 'multi_hot') return max(hot, -2);
  return sum(countWeights ? mul(hot, expandDims(cast(countWeights, 'float32'), -1)) : hot, -2);
}

function encodedShape(shape: Shape, depth: number, mode: string): Shape {
  if (shape.length === 0) return [depth];
  if (mode === 'one_hot') return shape.length > 1 && shape[shape.length - 1] === 1 ? [...shape.slice(0, -1), depth] : [...shape, depth];
  return [...shape.slice(0, -1), depth];
}

/** Options of `st.layers.categoryEncoding`. */
export interface CategoryEncodingArgs extends LayerArgs {
  /** The number of ids: inputs hold integers in [0, numTokens). */
  numTokens: number;
  /** 'multi_hot' (default, Keras's), 'one_hot' or 'count'. */
  outputMode?: EncodingMode;
  /** Only false: Strata has dense tensors only. */
  sparse?: false;
}

/**
 * Integer ids to float32 vectors of numTokens (Keras's CategoryEncoding): one-hot rows, a multi-hot
 * vector per sample, or counts (weighted by `{countWeights}` given in the call, of the ids'
 * shape). Inputs [batch] or [batch, ids].
 */
export class CategoryEncoding extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'CategoryEncoding';
  /** The number of ids. */
  readonly numTokens: number;
  /** 'one_hot', 'multi_hot' or 'count'. */
  readonly outputMode: 'one_hot' | 'multi_hot' | 'count';

  constructor(args: CategoryEncodingArgs) {
    super(args as CategoryEncodingArgs & Record<string, unknown>, ['numTokens', 'outputMode', 'sparse']);
    this.numTokens = positiveInt(this.name, 'numTokens', args.numTokens);
    this.outputMode = encodingMode(this.name, args.outputMode, 'multi_hot') as CategoryEncoding['outputMode'];
    if (args.sparse) throw new ValueError(`${this.name}: sparse outputs are not supported (Strata has dense tensors only)`);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const x = inputs as Tensor;
    if (x.rank > 2) throw new ValueError(`${this.name}: expects ids of rank 0, 1 or 2 ([batch] or [batch, ids]); received rank ${x.rank}`);
    const weights = options.countWeights === undefined ? undefined : asTensor(this.name, 'countWeights', options.countWeights as TensorInput);
    if (weights && this.outputMode !== 'count')
      throw new ValueError(`${this.name}: countWeights needs outputMode 'count'; the layer's is '${this.outputMode}'`);
    return encode(x, this.numTokens, this.outputMode, weights);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return encodedShape(singleShape(this.name, inputShape), this.numTokens, this.outputMode);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), numTokens: this.numTokens, outputMode: this.outputMode, sparse: false };
  }
}

/** Options of `st.layers.discretization`. */
export interface DiscretizationArgs extends LayerArgs {
  /**
   * Sorted bucket edges: [0, 1, 2] makes the buckets (-inf, 0), [0, 1), [1, 2), [2, inf) with ids
   * 0..3. Give these, or numBins and call adapt().
   */
  binBoundaries?: readonly number[] | null;
  /** The number of buckets adapt() makes (numBins − 1 edges at quantiles of the data). */
  numBins?: number | null;
  /** The relative rank error of adapt()'s quantile summary (Keras's epsilon). Default 0.01. */
  epsilon?: number;
  /** 'int' (default: bucket ids, int32), 'one_hot', 'multi_hot' or 'count' of the ids. */
  outputMode?: 'int' | EncodingMode;
  /** Only false: Strata has dense tensors only. */
  sparse?: false;
}

/**
 * Puts each value in a bucket (Keras's Discretization): the id is the number of boundaries <= the
 * value, as NumPy's digitize. The boundaries are given, or learned by `adapt(data)` from quantiles
 * of the data with Keras's quantile summary.
 */
export class Discretization extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Discretization';
  /** The number of buckets adapt() makes, if given. */
  readonly numBins: number | null;
  /** The rank error of the quantile summary. */
  readonly epsilon: number;
  /** 'int' or an encoding of the ids. */
  readonly outputMode: string;
  private boundaries: number[] | null;

  constructor(args: DiscretizationArgs = {}) {
    super(args as DiscretizationArgs & Record<string, unknown>, ['binBoundaries', 'numBins', 'epsilon', 'outputMode', 'sparse']);
    const b = args.binBoundaries ?? null;
    if (b !== null && !(Array.isArray(b) && b.every((v, i) => typeof v === 'number' && !Number.isNaN(v) && (i === 0 || b[i - 1] <= v)))) {
      throw new ValueError(`${this.name}: binBoundaries must be a sorted list of numbers; received ${fmtValue(b)}`);
    }
    this.numBins = args.numBins === undefined || args.numBins === null ? null : positiveInt(this.name, 'numBins', args.numBins);
    if (b === null && this.numBins === null) throw new ValueError(`${this.name}: give binBoundaries, or numBins and then call adapt(data)`);
    if (b !== null && this.numBins !== null && b.length !== this.numBins - 1) {
      throw new ValueError(`${this.name}: numBins ${this.numBins} needs ${this.numBins - 1} binBoundaries; received ${b.length}`);
    }
    this.boundaries = b === null ? null : [...b];
    const e = args.epsilon ?? 0.01;
    if (typeof e !== 'number' || !(e > 0 && e < 1)) throw new ValueError(`${this.name}: epsilon must be a number in (0, 1); received ${fmtValue(e)}`);
    this.epsilon = e;
    this.outputMode = encodingMode(this.name, args.outputMode, 'int', ['int']);
    if (args.sparse) throw new ValueError(`${this.name}: sparse outputs are not supported (Strata has dense tensors only)`);
  }

  /** The bucket edges in use (given or adapted), or null before adapt(). */
  get binBoundaries(): number[] | null {
    return this.boundaries ? [...this.boundaries] : null;
  }

  /**
   * Learns numBins − 1 boundaries from the values of `data` (any shape; all values pooled): Keras's
   * summary of the sorted values (every (n·epsilon)-th value) compressed to 1/numBins steps of
   * cumulative weight. Reads the values to the host; call it before training, not in a loop.
   */
  adapt(data: TensorInput): void {
    if (this.numBins === null) throw new ValueError(`${this.name}: adapt() needs numBins; this layer was given binBoundaries`);
    const values = Float64Array.from(asTensor(`${this.name}.adapt`, 'data', data).dataSync()).sort();
    if (values.length === 0) throw new ValueError(`${this.name}.adapt: the data holds no values`);
    this.boundaries = quantileBoundaries(values, this.epsilon, this.numBins);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    if (!this.boundaries) throw new ValueError(`${this.name}: call adapt(data) first, or give binBoundaries`);
    const x = inputs as Tensor;
    const v = isFloat(x.dtype) ? x : cast(x, 'float32');
    const edges = tensor(this.boundaries, [this.boundaries.length], v.dtype);
    const ids = cast(sum(cast(greaterEqual(expandDims(v, -1), edges), 'int32'), -1), 'int32');
    return this.outputMode === 'int' ? ids : encode(ids, this.boundaries.length + 1, this.outputMode);
  }

  protected override computeOutputDtype(): Tensor['dtype'] {
    return this.outputMode === 'int' ? 'int32' : 'float32';
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(this.name, inputShape);
    if (this.outputMode === 'int') return s;
    const depth = this.boundaries ? this.boundaries.length + 1 : this.numBins;
    return encodedShape(s, depth!, this.outputMode);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      binBoundaries: this.binBoundaries,
      numBins: this.numBins,
      epsilon: this.epsilon,
      outputMode: this.outputMode,
      sparse: false,
    };
  }
}

/**
 * Keras 3's adapt for one batch (keras/src/layers/preprocessing/discretization.py, summarize then
 * get_bin_boundaries): the summary keeps every step-th sorted value (step = max(n·epsilon, 1),
 * starting at index floor(n·epsilon)) with weight step; compressing it to epsilon' = 1/numBins
 * interpolates the values at cumulative weight fractions epsilon', 2·epsilon', ..., and the last is
 * dropped. A summary with fewer than numBins entries is used as it is.
 */
export function quantileBoundaries(sorted: Float64Array, epsilon: number, numBins: number): number[] {
  const n = sorted.length;
  const increment = n / (1 / epsilon);
  const start = Math.trunc(increment),
    step = Math.trunc(Math.max(increment, 1));
  const summary: number[] = [];
  for (let i = start; i < n; i += step) summary.push(sorted[i]);
  const weight = Math.max(increment, 1);
  const eps = 1 / numBins;
  if (summary.length * eps < 1) return summary.slice(0, -1).map((v) => Math.fround(v));
  // np.arange(0, 1, eps) + eps, then np.interp against the cumulative weight fractions.
  const count = Math.ceil(1 / eps);
  const total = weight * summary.length;
  const fractions = summary.map((_, i) => (weight * (i + 1)) / total);
  const out: number[] = [];
  for (let k = 0; k < count; k++) out.push(interp(eps + k * eps, fractions, summary));
  return out.slice(0, -1).map((v) => Math.fround(v));
}

/** NumPy's interp: piecewise linear through (xs, ys), clamped at the ends. */
function interp(x: number, xs: number[], ys: number[]): number {
  if (x <= xs[0]) return ys[0];
  if (x >= xs[xs.length - 1]) return ys[ys.length - 1];
  let i = 1;
  while (xs[i] < x) i++;
  // NumPy's order of operations: the slope first.
  const slope = (ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1]);
  return slope * (x - xs[i - 1]) + ys[i - 1];
}

registerLayer('CategoryEncoding', (c) => new CategoryEncoding(c as unknown as CategoryEncodingArgs));
registerLayer('Discretization', (c) => new Discretization(c as DiscretizationArgs));
