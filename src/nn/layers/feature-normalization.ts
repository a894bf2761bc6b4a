// Keras's preprocessing Normalization layer: (x − mean) / sqrt(variance) per feature, with the
// statistics given or learned by adapt(data). (Batch and layer normalization, which learn while
// training, are normalization.ts.)
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { add, cast, div, maximum, mul, sqrt, sub } from '../../ops/elementwise.js';
import { asTensor, type TensorInput } from '../../ops/operand.js';
import { moments } from '../../ops/reduction.js';
import { broadcastTo, reshape } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import { noGrad } from '../../tensor/tape.js';
import { Tensor } from '../../tensor/tensor.js';
import { type CallOptions, Layer, type LayerArgs, knownDim, singleShape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { floatingLike } from './conv-options.js';

/** A mean or variance given as a number or a nested list (Keras's mean=, variance=). */
export type Statistic = number | readonly Statistic[];

/** Options of `st.layers.normalization`. */
export interface NormalizationArgs extends LayerArgs {
  /**
   * The axis (or axes) that keep a statistic of their own, usually the features (default -1);
   * null: one mean and variance for all values.
   */
  axis?: number | readonly number[] | null;
  /** The mean, if known (with variance); otherwise call adapt(data). A number or a list broadcast over the kept axes. */
  mean?: Statistic | null;
  /** The variance, of the mean's shape. */
  variance?: Statistic | null;
  /** Undo the normalization instead: mean + x · sqrt(variance). Default false. */
  invert?: boolean;
}

/** Keras's backend epsilon: the smallest standard deviation divided by. */
const STD_FLOOR = 1e-7;

function flatStatistic(v: Statistic): { values: number[]; shape: number[] } {
  const shape: number[] = [];
  let at: Statistic = v;
  while (Array.isArray(at)) {
    shape.push(at.length);
    at = at[0];
  }
  const values = (Array.isArray(v) ? (v as unknown[]).flat(Infinity) : [v]) as number[];
  return { values, shape };
}

/**
 * Standardizes each feature (Keras's Normalization): (x − mean) / max(sqrt(variance), 1e-7). The
 * statistics are given (`mean`, `variance`) or computed by `adapt(data)` over every axis but
 * `axis`, as the non-trainable weights mean, variance and count (so they are saved with the
 * model). `invert: true` maps normalized values back.
 * @example
 * ```ts
 * const norm = st.layers.normalization();
 * norm.adapt(st.tensor([[0, 7], [2, 9]]));
 * console.log(await norm.apply(st.tensor([[1, 8]])).array()); // [[0, 0]]
 * ```
 */
export class Normalization extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Normalization';
  override supportsMasking = true;
  /** The kept axes as given (an empty list for one statistic overall). */
  readonly axis: number[];
  /** Whether the layer undoes the normalization. */
  readonly invert: boolean;
  private readonly givenMean: Statistic | null;
  private readonly givenVariance: Statistic | null;
  private keep: number[] = [];
  private reduce: number[] = [];
  private broadcastShape: number[] = [];
  private weightsOf: { mean: Tensor; variance: Tensor; count: Tensor } | null = null;
  private fixed: { mean: Tensor; variance: Tensor } | null = null;

  constructor(args: NormalizationArgs = {}) {
    super(args as NormalizationArgs & Record<string, unknown>, ['axis', 'mean', 'variance', 'invert']);
    const a = args.axis === undefined ? -1 : args.axis;
    const list = a === null ? [] : typeof a === 'number' ? [a] : Array.isArray(a) ? [...a] : null;
    if (!list?.every(Number.isInteger))
      throw new ValueError(`${this.name}: axis must be an integer, a list of integers or null; received ${fmtValue(a)}`);
    this.axis = list;
    this.invert = args.invert ?? false;
    const m = args.mean ?? null,
      v = args.variance ?? null;
    if ((m === null) !== (v === null))
      throw new ValueError(
        `${this.name}: give both mean and variance, or neither (then call adapt); received mean ${fmtValue(m)}, variance ${fmtValue(v)}`,
      );
    if (m !== null && v !== null) {
      const fm = flatStatistic(m),
        fv = flatStatistic(v);
      if (fm.shape.join() !== fv.shape.join())
        throw new ValueError(
          `${this.name}: mean and variance must have the same shape; received ${formatShape(fm.shape)} and ${formatShape(fv.shape)}`,
        );
      if (fm.shape.length > list.length)
        throw new ValueError(`${this.name}: the mean has rank ${fm.shape.length}, more than the ${list.length} kept axes`);
      if (![...fm.values, ...fv.values].every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new ValueError(`${this.name}: mean and variance must hold finite numbers; received ${fmtValue(m)}, ${fmtValue(v)}`);
      }
    }
    this.givenMean = m;
    this.givenVariance = v;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = singleShape(this.name, inputShape);
    const rank = s.length;
    if (this.axis.some((x) => x < -rank || x >= rank))
      throw new ValueError(`${this.name}: axis ${fmtValue(this.axis)} is out of range for inputs of rank ${rank}`);
    this.keep = [...new Set(this.axis.map((x) => (x < 0 ? x + rank : x)))].sort((x, y) => x - y);
    this.reduce = s.map((_, i) => i).filter((i) => !this.keep.includes(i));
    this.broadcastShape = s.map((_, i) => (this.keep.includes(i) ? knownDim(this.name, s, i, `size of kept axis ${i}`) : 1));
    const statShape = this.keep.map((i) => this.broadcastShape[i]);
    if (this.givenMean === null) {
      this.weightsOf = {
        mean: this.addWeight('mean', statShape, { initializer: 'zeros', trainable: false }),
        variance: this.addWeight('variance', statShape, { initializer: 'ones', trainable: false }),
        count: this.addWeight('count', [], { initializer: 'zeros', trainable: false, dtype: 'int32' }),
      };
    } else {
      // Keras aligns a given statistic's axes with the kept axes from the right.
      const place = (v: Statistic) => {
        const { values, shape } = flatStatistic(v);
        const expanded = s.map(() => 1);
        shape.forEach((d, k) => (expanded[this.keep[this.keep.length - shape.length + k]] = d));
        return broadcastTo(tensor(values, expanded, this.dtype), this.broadcastShape);
      };
      this.fixed = { mean: place(this.givenMean), variance: place(this.givenVariance!) };
    }
  }

  /**
   * Sets mean, variance and count from `data`: one tensor (all its samples at once) or a list of
   * batches, combined with Keras's running formula (the variance is the population variance).
   * @throws ValueError when the layer was given mean and variance; ShapeError when a batch's kept
   * axes differ from the layer's.
   */
  adapt(data: TensorInput | readonly Tensor[]): void {
    if (this.givenMean !== null) throw new ValueError(`${this.name}: adapt() learns mean and variance, but this layer was given them`);
    const list = data as readonly unknown[];
    const batches =
      Array.isArray(list) && list.length > 0 && list.every((b) => b instanceof Tensor)
        ? (list as Tensor[])
        : [asTensor(`${this.name}.adapt`, 'data', data as TensorInput)];
    this.ensureBuilt(batches[0].shape);
    noGrad(() => {
      const statShape = this.keep.map((i) => this.broadcastShape[i]);
      let total = 0,
        mean: Tensor | null = null,
        variance: Tensor | null = null;
      for (const raw of batches) {
        const b = floatingLike(raw, this.dtype);
        if (b.rank !== this.broadcastShape.length || this.keep.some((i) => b.shape[i] !== this.broadcastShape[i])) {
          throw new ShapeError(
            `${this.name}.adapt: the layer keeps axes ${fmtValue(this.keep)} of shape ${formatShape(this.broadcastShape)}; received a batch of shape ${formatShape(b.shape)}`,
          );
        }
        const n = this.reduce.reduce((p, i) => p * b.shape[i], 1);
        const m = this.reduce.length ? moments(b, this.reduce, false) : { mean: b, variance: mul(b, 0) };
        const bm = reshape(m.mean, statShape),
          bv = reshape(m.variance, statShape);
        total += n;
        if (!mean || !variance) {
          mean = bm;
          variance = bv;
          continue;
        }
        const w = n / total,
          keepW = 1 - w;
        const next = add(mul(mean, keepW), mul(bm, w));
        const sq = (d: Tensor) => mul(d, d);
        variance = add(mul(add(variance, sq(sub(mean, next))), keepW), mul(add(bv, sq(sub(bm, next))), w));
        mean = next;
      }
      const ws = this.weightsOf!;
      ws.mean.assign(cast(mean!, ws.mean.dtype));
      ws.variance.assign(cast(variance!, ws.variance.dtype));
      ws.count.assign(tensor([total], [], 'int32'));
    });
  }

  private statistics(): { mean: Tensor; variance: Tensor } {
    if (this.fixed) return this.fixed;
    const ws = this.weightsOf!;
    return { mean: reshape(ws.mean, this.broadcastShape), variance: reshape(ws.variance, this.broadcastShape) };
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.dtype);
    const { mean, variance } = this.statistics();
    const std = maximum(sqrt(variance), STD_FLOOR);
    return this.invert ? add(mean, mul(x, std)) : div(sub(x, mean), std);
  }

  override getConfig(): Record<string, unknown> {
    const axis = this.axis.length === 1 ? this.axis[0] : this.axis.length === 0 ? null : this.axis;
    return { ...super.getConfig(), axis, mean: this.givenMean, variance: this.givenVariance, invert: this.invert };
  }
}

registerLayer('Normalization', (c) => new Normalization(c as NormalizationArgs));
