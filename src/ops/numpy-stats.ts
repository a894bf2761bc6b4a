import { ValueError, fmtValue } from '../core/errors.js';
import { normalizeAxis } from '../core/shape.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  add,
  cast,
  ceil,
  div,
  equal,
  floor,
  greater,
  isNaN,
  logicalNot,
  maximum,
  minimum,
  mul,
  round,
  sqrt,
  square,
  sub,
  where,
} from './elementwise.js';
import { floating } from './math-extra.js';
import { takeAlongAxis } from './numpy-extra.js';
import type { TensorInput } from './operand.js';
import { argMax, argMin, max, min, prod, sum, type Axis } from './reduction.js';
import { cumprod, cumsum } from './scan.js';
import { reshape, transpose } from './shape-ops.js';
import { sort } from './sorting.js';

// Order statistics and NaN-ignoring reductions of keras.ops (NumPy's median, quantile,
// percentile and nan* family) as composites. Note [Quantiles from a sort]: the values are sorted
// along the axis (NaN last), and quantile q sits at position q (n - 1), n the number of values
// (of non-NaN values for the nan* forms); the two neighbouring order statistics are gathered from
// the sorted values and mixed as `method` says (NumPy's: 'linear' interpolates, 'lower', 'higher',
// 'nearest' (half to even) and 'midpoint'). Gradients flow through the sort's gather to the
// values picked; the positions are constants. Without the nan* form, a slice holding NaN gives NaN.

/** How a quantile between two order statistics is taken (NumPy's method). */
export type QuantileMethod = 'linear' | 'lower' | 'higher' | 'midpoint' | 'nearest';

/** Options of `st.quantile`, `st.percentile`, `st.median` and their nan* forms. */
export interface QuantileOptions {
  /** The axis to reduce; all axes (flattened) by default. */
  axis?: number;
  /** Default 'linear'. */
  method?: QuantileMethod;
  /** Keep the reduced axis with size 1. Default false. */
  keepDims?: boolean;
}

const METHODS: readonly QuantileMethod[] = ['linear', 'lower', 'higher', 'midpoint', 'nearest'];

function quantiles(op: string, x: TensorInput, q: number | readonly number[], options: QuantileOptions, ignoreNan: boolean, scale = 1): Tensor {
  const unknown = Object.keys(options).filter((k) => !['axis', 'method', 'keepDims'].includes(k));
  if (unknown.length) throw new ValueError(`${op}: unknown option ${fmtValue(unknown[0])}; expected axis, method, keepDims`);
  const method = options.method ?? 'linear';
  if (!METHODS.includes(method)) throw new ValueError(`${op}: method must be one of ${METHODS.join(', ')}; received ${fmtValue(method)}`);
  const qs = (typeof q === 'number' ? [q] : Array.from(q)).map((v) => v / scale);
  if (!qs.every((v) => v >= 0 && v <= 1)) {
    throw new ValueError(`${op}: q must be in [0, ${scale === 1 ? 1 : 100}]; received ${fmtValue(q)}`);
  }
  const t = floating(op, x);
  const keepDims = options.keepDims ?? false;
  // The reduced axis goes last.
  let moved: Tensor, outer: number[];
  if (options.axis === undefined) {
    moved = reshape(t, [t.size]);
    outer = [];
  } else {
    const a = normalizeAxis(op, options.axis, t.rank);
    const perm = [...t.shape.keys()].filter((i) => i !== a).concat(a);
    moved = transpose(t, perm);
    outer = perm.slice(0, -1).map((i) => t.shape[i]);
  }
  const n = moved.shape[moved.rank - 1];
  if (n === 0) throw new ValueError(`${op}: cannot take a quantile of an empty axis`);
  const sorted = sort(moved, -1);
  const nan = isNaN(moved);
  const count = ignoreNan ? sum(cast(logicalNot(nan), t.dtype), -1, true) : tensor(n, [], t.dtype);
  const qTensor = tensor(qs, [...outer.map(() => 1), qs.length], t.dtype);
  const pos = mul(qTensor, maximum(sub(count, 1), 0));
  const last = maximum(sub(count, 1), 0);
  const clampIndex = (p: Tensor) => cast(minimum(maximum(p, 0), last), 'int32');
  const lowPos = floor(pos),
    highPos = ceil(pos);
  const pick = (p: Tensor) => takeAlongAxis(sorted, clampIndex(p), -1);
  let value: Tensor;
  if (method === 'lower') value = pick(lowPos);
  else if (method === 'higher') value = pick(highPos);
  else if (method === 'nearest') value = pick(round(pos));
  else {
    const low = pick(lowPos),
      high = pick(highPos);
    value = method === 'midpoint' ? mul(add(low, high), 0.5) : add(low, mul(sub(high, low), sub(pos, lowPos)));
  }
  // NaN where a slice has no values (nan* forms) or any NaN (plain forms).
  const empty = ignoreNan ? equal(count, 0) : greater(sum(cast(nan, 'int32'), -1, true), 0);
  value = where(empty, NaN, value);
  // [...outer, Q] -> [Q, ...outer] (NumPy puts the q axis first), or without it for a single q.
  let out = value;
  if (typeof q === 'number') out = reshape(out, outer);
  else out = transpose(out, [out.rank - 1, ...outer.map((_, i) => i)]);
  if (keepDims) {
    const kept = options.axis === undefined ? t.shape.map(() => 1) : t.shape.map((d, i) => (i === normalizeAxis(op, options.axis!, t.rank) ? 1 : d));
    out = reshape(out, typeof q === 'number' ? kept : [qs.length, ...kept]);
  }
  return out;
}

/** The q-th quantile(s) (q in [0, 1], a number or a list) along `axis` (NumPy's quantile). */
export const quantile = (x: TensorInput, q: number | readonly number[], options: QuantileOptions = {}): Tensor =>
  quantiles('quantile', x, q, options, false);
/** The q-th percentile(s) (q in [0, 100]) along `axis` (NumPy's percentile). */
export const percentile = (x: TensorInput, q: number | readonly number[], options: QuantileOptions = {}): Tensor =>
  quantiles('percentile', x, q, options, false, 100);
/** The median along `axis` (all axes by default). */
export const median = (x: TensorInput, options: Omit<QuantileOptions, 'method'> = {}): Tensor => quantiles('median', x, 0.5, options, false);
/** quantile ignoring NaN (NaN for a slice of NaN only). */
export const nanquantile = (x: TensorInput, q: number | readonly number[], options: QuantileOptions = {}): Tensor =>
  quantiles('nanquantile', x, q, options, true);
/** percentile ignoring NaN. */
export const nanpercentile = (x: TensorInput, q: number | readonly number[], options: QuantileOptions = {}): Tensor =>
  quantiles('nanpercentile', x, q, options, true, 100);
/** median ignoring NaN. */
export const nanmedian = (x: TensorInput, options: Omit<QuantileOptions, 'method'> = {}): Tensor => quantiles('nanmedian', x, 0.5, options, true);

// ---- NaN-ignoring reductions --------------------------------------------------------------------

const filled = (op: string, x: TensorInput, value: number): [Tensor, Tensor] => {
  const t = floating(op, x);
  const nan = isNaN(t);
  return [where(nan, value, t), nan];
};
const countOf = (nan: Tensor, axis: Axis | undefined, keepDims: boolean, dtype: 'float32' | 'float64') =>
  sum(cast(logicalNot(nan), dtype), axis, keepDims);

/** The sum ignoring NaN (0 for NaN only). */
export const nansum = (x: TensorInput, axis?: Axis, keepDims = false): Tensor => sum(filled('nansum', x, 0)[0], axis, keepDims);
/** The product ignoring NaN (1 for NaN only). */
export const nanprod = (x: TensorInput, axis?: Axis, keepDims = false): Tensor => prod(filled('nanprod', x, 1)[0], axis, keepDims);

/** The mean ignoring NaN (NaN for NaN only). */
export function nanmean(x: TensorInput, axis?: Axis, keepDims = false): Tensor {
  const [t, nan] = filled('nanmean', x, 0);
  return div(sum(t, axis, keepDims), countOf(nan, axis, keepDims, t.dtype as 'float32'));
}

/** The population variance ignoring NaN. */
export function nanvar(x: TensorInput, axis?: Axis, keepDims = false): Tensor {
  const [t, nan] = filled('nanvar', x, 0);
  const centre = nanmean(where(nan, NaN, t), axis, true);
  const deviations = where(nan, 0, square(sub(t, centre)));
  return div(sum(deviations, axis, keepDims), countOf(nan, axis, keepDims, t.dtype as 'float32'));
}

/** The population standard deviation ignoring NaN. */
export const nanstd = (x: TensorInput, axis?: Axis, keepDims = false): Tensor => sqrt(nanvar(x, axis, keepDims));

function nanExtreme(op: string, x: TensorInput, axis: Axis | undefined, keepDims: boolean, largest: boolean): Tensor {
  const [t, nan] = filled(op, x, largest ? -Infinity : Infinity);
  const value = largest ? max(t, axis, keepDims) : min(t, axis, keepDims);
  return where(equal(countOf(nan, axis, keepDims, t.dtype as 'float32'), 0), NaN, value);
}

/** The maximum ignoring NaN (NaN for NaN only). */
export const nanmax = (x: TensorInput, axis?: Axis, keepDims = false): Tensor => nanExtreme('nanmax', x, axis, keepDims, true);
/** The minimum ignoring NaN (NaN for NaN only). */
export const nanmin = (x: TensorInput, axis?: Axis, keepDims = false): Tensor => nanExtreme('nanmin', x, axis, keepDims, false);

/** The index of the maximum ignoring NaN along `axis` (of the flattened x by default); 0 for NaN only. */
export function nanargmax(x: TensorInput, axis?: number, keepDims = false): Tensor {
  const [t] = filled('nanargmax', x, -Infinity);
  return axis === undefined ? argMax(reshape(t, [t.size]), 0, keepDims) : argMax(t, axis, keepDims);
}

/** The index of the minimum ignoring NaN along `axis` (of the flattened x by default); 0 for NaN only. */
export function nanargmin(x: TensorInput, axis?: number, keepDims = false): Tensor {
  const [t] = filled('nanargmin', x, Infinity);
  return axis === undefined ? argMin(reshape(t, [t.size]), 0, keepDims) : argMin(t, axis, keepDims);
}

/** The cumulative sum with NaN taken as 0, along `axis` (of the flattened x by default, as NumPy). */
export function nancumsum(x: TensorInput, axis?: number): Tensor {
  const [t] = filled('nancumsum', x, 0);
  return axis === undefined ? cumsum(reshape(t, [t.size]), 0) : cumsum(t, axis);
}

/** The cumulative product with NaN taken as 1, along `axis` (of the flattened x by default). */
export function nancumprod(x: TensorInput, axis?: number): Tensor {
  const [t] = filled('nancumprod', x, 1);
  return axis === undefined ? cumprod(reshape(t, [t.size]), 0) : cumprod(t, axis);
}
