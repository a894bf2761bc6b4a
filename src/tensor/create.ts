import { getBackend } from '../backend/registry.js';
import { assertDType, checkInt32Values, fitsInt32, int32RangeError, isFloat, toTypedArray, type DType, type TypedArray } from '../core/dtype.js';
import { DtypeError, ShapeError, ValueError, fmtShape } from '../core/errors.js';
import type { Backend } from '../backend/backend.js';
import { nextStream, type Distribution } from '../core/rng.js';
import { checkKeys } from '../core/options.js';
import { checkShape, sizeOf } from '../core/shape.js';
import { Tensor, type NestedArray } from './tensor.js';

/** Values `st.tensor` accepts: a number or boolean, nested arrays, or a TypedArray. */
export type TensorLike = NestedArray | TypedArray | readonly number[];

/** The current backend, refusing a dtype it cannot store (float64 lives on the reference backend only). */
function backendFor(op: string, dtype: DType): Backend {
  const backend = getBackend();
  if (!backend.supportsDtype(dtype)) {
    throw new DtypeError(
      `${op}: the ${backend.name} backend does not support dtype ${dtype}; received dtype ${dtype} (float64 needs st.setBackend('reference'))`,
    );
  }
  return backend;
}

function isTypedArray(x: unknown): x is TypedArray | Uint8Array {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/** Shape and flat values of a nested array; ragged nesting is a ShapeError naming the path. */
function flatten(values: NestedArray): { shape: number[]; flat: number[]; sawBool: boolean } {
  const shape: number[] = [];
  for (let v: NestedArray = values; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const flat: number[] = [];
  let sawBool = false;
  const walk = (v: NestedArray, dim: number, path: string) => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw new ShapeError(`tensor: ragged nested array: expected a number at ${path || 'the top'}, received an array`);
      if (typeof v === 'boolean') sawBool = true;
      else if (typeof v !== 'number') throw new ValueError(`tensor: expected numbers or booleans; received ${typeof v} at ${path || 'the top'}`);
      flat.push(+v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      const got = Array.isArray(v) ? `length ${v.length}` : typeof v;
      throw new ShapeError(`tensor: ragged nested array: expected length ${shape[dim]} at ${path || 'the top'}, received ${got}`);
    }
    v.forEach((item, i) => walk(item, dim + 1, `${path}[${i}]`));
  };
  walk(values, 0, '');
  return { shape, flat, sawBool };
}

/**
 * Creates a tensor from a number, nested arrays or a TypedArray. The dtype defaults to float32,
 * to bool for booleans and to int32 for an Int32Array or Uint8Array. `shape` reshapes flat values.
 * The values are copied, so later changes to `values` do not reach the tensor.
 * @throws ShapeError for ragged nested arrays, or a `shape` that does not hold the values.
 * @throws DtypeError for an unknown dtype, a value int32 cannot hold, or float64 on a backend
 * without it.
 * @throws ValueError for values that are not numbers or booleans.
 * @example
 * ```ts
 * const a = st.tensor([[1, 2], [3, 4]]);          // float32, shape [2, 2]
 * const b = st.tensor([1, 2, 3, 4, 5, 6], [2, 3]); // reshaped flat values
 * const c = st.tensor([0, 1, 1], undefined, 'int32');
 * console.log(a.shape, b.dtype, await c.array());
 * ```
 */
export function tensor(values: TensorLike, shape?: readonly number[], dtype?: DType): Tensor {
  if (dtype !== undefined) assertDType('tensor', dtype);
  let flat: ArrayLike<number>;
  let inferred: number[];
  let defaultDtype: DType = 'float32';
  if (isTypedArray(values)) {
    flat = values;
    inferred = [values.length];
    if (values instanceof Int32Array || values instanceof Uint8Array) defaultDtype = 'int32';
    else if (values instanceof Float64Array && dtype === undefined) defaultDtype = 'float32';
  } else if (typeof values === 'number' || typeof values === 'boolean') {
    flat = [+values];
    inferred = [];
    if (typeof values === 'boolean') defaultDtype = 'bool';
  } else if (Array.isArray(values)) {
    const f = flatten(values as NestedArray);
    flat = f.flat;
    inferred = f.shape;
    if (f.sawBool) defaultDtype = 'bool';
  } else {
    throw new ValueError(`tensor: values must be a number, a boolean, nested arrays or a TypedArray; received ${typeof values}`);
  }
  const finalShape = shape === undefined ? inferred : checkShape('tensor', shape as number[]);
  if (sizeOf(finalShape) !== flat.length) {
    throw new ShapeError(`tensor: shape ${fmtShape(finalShape)} holds ${sizeOf(finalShape)} values but ${flat.length} were given`);
  }
  const dt = dtype ?? defaultDtype;
  // An Int32Array or Uint8Array already holds int32 values; anything else is checked, not wrapped
  // (Note [int32 holds what it is given, or refuses] in core/dtype.ts).
  if (dt === 'int32' && !(flat instanceof Int32Array || flat instanceof Uint8Array)) checkInt32Values('tensor', flat, finalShape);
  const backend = backendFor('tensor', dt);
  // upload copies (and converts) a TypedArray itself: converting here too would hold a third copy
  // of a large array at the peak (a data set read from a file).
  return new Tensor(backend.upload(isTypedArray(flat) ? flat : toTypedArray(flat, dt), dt), finalShape, dt, backend);
}

/**
 * A tensor of `shape` filled with `value` (float32 unless `dtype` says otherwise).
 * @throws ValueError for a bad shape; DtypeError when int32 cannot hold `value`.
 */
export function full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  return filled('full', shape, value, dtype);
}

/** full, naming `op` in its errors: ops make the scalars of plain-number operands here. */
export function filled(op: string, shape: readonly number[], value: number, dtype: DType): Tensor {
  const s = checkShape(op, shape as number[]);
  assertDType(op, dtype);
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new ValueError(`${op}: value must be a number; received ${typeof value}`);
  if (dtype === 'int32' && !fitsInt32(+value)) throw int32RangeError(op, +value);
  const backend = backendFor(op, dtype);
  // bool is value != 0, so NaN is true (as NumPy, st.tensor and st.cast have it).
  return new Tensor(backend.fill(s, dtype, dtype === 'bool' ? +(+value !== 0) : +value), s, dtype, backend);
}

/** A tensor of zeros (float32 by default). */
export const zeros = (shape: readonly number[], dtype: DType = 'float32') => full(shape, 0, dtype);
/** A tensor of ones (float32 by default). */
export const ones = (shape: readonly number[], dtype: DType = 'float32') => full(shape, 1, dtype);
/** Zeros with the shape and dtype of `t`. */
export const zerosLike = (t: Tensor) => full(t.shape, 0, t.dtype);
/** Ones with the shape and dtype of `t`. */
export const onesLike = (t: Tensor) => full(t.shape, 1, t.dtype);

/**
 * Values from start (inclusive) to stop (exclusive); one argument means [0, n). int32 when all are integers.
 * @throws ValueError when step is 0 or not finite.
 */
export function arange(start: number, stop?: number, step = 1, dtype?: DType): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`arange: step must be a non-zero finite number; received ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const values = Array.from({ length: n }, (_, i) => start + i * step);
  const dt = dtype ?? ([start, stop, step].every(Number.isInteger) ? 'int32' : 'float32');
  return tensor(values, [n], dt);
}

/**
 * `num` evenly spaced values from start to stop, both included.
 * @throws ValueError when num is not a non-negative integer.
 */
export function linspace(start: number, stop: number, num: number): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new ValueError(`linspace: num must be a non-negative integer; received ${num}`);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  return tensor(
    Array.from({ length: num }, (_, i) => (i === num - 1 && num > 1 ? stop : start + i * step)),
    [num],
  );
}

/** The n x m identity matrix (ones on the diagonal, zeros elsewhere; m defaults to n). */
export function eye(n: number, m = n, dtype: DType = 'float32'): Tensor {
  checkShape('eye', [n, m]);
  const values = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return tensor(values, [n, m], dtype);
}

/** Options of `st.randomNormal` and `st.truncatedNormal`. */
export interface RandomNormalOptions {
  /** The mean of the distribution. Default 0. */
  mean?: number;
  /** The standard deviation (>= 0). Default 1. */
  stddev?: number;
  /**
   * A seed that fixes this call's values; without one the values come from the global stream
   * (`st.setSeed`).
   */
  seed?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/** Options of `st.randomUniform`. */
export interface RandomUniformOptions {
  /** The lower bound (inclusive). Default 0. */
  min?: number;
  /** The upper bound (exclusive). Default 1. */
  max?: number;
  /**
   * A seed that fixes this call's values; without one the values come from the global stream
   * (`st.setSeed`).
   */
  seed?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
}

const NORMAL_KEYS = ['mean', 'stddev', 'seed', 'dtype'];
const UNIFORM_KEYS = ['min', 'max', 'seed', 'dtype'];

/** Samples from `dist` on the current backend (every backend reproduces core/rng.ts exactly). */
export function randomTensor(op: string, shape: readonly number[], dist: Distribution, seed?: number, dtype: DType = 'float32'): Tensor {
  const s = checkShape(op, shape as number[]);
  if (!isFloat(dtype)) throw new ValueError(`${op}: dtype must be floating; received ${dtype}`);
  const backend = backendFor(op, dtype);
  return new Tensor(backend.random(s, dtype, nextStream(sizeOf(s), seed), dist), s, dtype, backend);
}

/**
 * Samples from a normal distribution; every backend draws the same values for the same seed
 * (Philox counters, so results do not depend on the backend).
 * @throws ValueError for a negative stddev, an unknown option or a non-floating dtype.
 */
export function randomNormal(shape: readonly number[], options: RandomNormalOptions = {}): Tensor {
  checkKeys('randomNormal', options, NORMAL_KEYS);
  const { mean = 0, stddev = 1, seed, dtype } = options;
  if (!(stddev >= 0)) throw new ValueError(`randomNormal: stddev must be >= 0; received ${stddev}`);
  return randomTensor('randomNormal', shape, { kind: 'normal', mean, stddev }, seed, dtype);
}

/**
 * Samples from a normal distribution, redrawing values more than two standard deviations from the
 * mean (TensorFlow's truncated_normal).
 * @throws ValueError for a negative stddev, an unknown option or a non-floating dtype.
 */
export function truncatedNormal(shape: readonly number[], options: RandomNormalOptions = {}): Tensor {
  checkKeys('truncatedNormal', options, NORMAL_KEYS);
  const { mean = 0, stddev = 1, seed, dtype } = options;
  if (!(stddev >= 0)) throw new ValueError(`truncatedNormal: stddev must be >= 0; received ${stddev}`);
  return randomTensor('truncatedNormal', shape, { kind: 'truncatedNormal', mean, stddev }, seed, dtype);
}

/**
 * Samples uniformly from [min, max).
 * @throws ValueError when max < min, for an unknown option or a non-floating dtype.
 */
export function randomUniform(shape: readonly number[], options: RandomUniformOptions = {}): Tensor {
  checkKeys('randomUniform', options, UNIFORM_KEYS);
  const { min = 0, max = 1, seed, dtype } = options;
  if (!(max >= min)) throw new ValueError(`randomUniform: max must be >= min; received min ${min}, max ${max}`);
  return randomTensor('randomUniform', shape, { kind: 'uniform', min, max }, seed, dtype);
}
