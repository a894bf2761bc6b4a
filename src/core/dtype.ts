import { DtypeError, fmtValue } from './errors.js';

// Note [Dtypes and promotion]
// Public dtypes are float32 (the default), int32 and bool. float64 exists so that the
// reference backend can check gradients with finite differences at double precision;
// other backends may refuse it.
//
// Promotion follows NumPy's lattice, restricted to our dtypes:
//   bool < int32 < float32 < float64
// and the result of a binary op is the larger of its two operands. A plain JavaScript
// number is "weak" (as in JAX and NumPy 2): it adopts the tensor's dtype, except that a
// non-integer number next to an int32 or bool tensor makes the result float32, and any
// number next to a bool tensor makes it at least int32.
// Arithmetic (add, sub, mul, pow, ...) treats bool as int32; `div` always produces a
// floating result (true division, as in NumPy and PyTorch); comparisons produce bool.

/**
 * Element types: float32 (the default), int32, bool, and float64 (reference backend only, for
 * gradient checks). Binary ops promote along bool < int32 < float32 < float64.
 */
export type DType = 'float32' | 'int32' | 'bool' | 'float64';
/** The flat storage arrays of the dtypes: Float32Array, Int32Array, Uint8Array (bool), Float64Array. */
export type TypedArray = Float32Array | Int32Array | Uint8Array | Float64Array;

export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

export function assertDType(op: string, x: unknown): DType {
  if (!isDType(x)) {
    throw new DtypeError(`${op}: dtype must be one of 'float32', 'int32', 'bool'; received ${fmtValue(x)}`);
  }
  return x;
}

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

/** The smallest dtype that holds both (NumPy's promote_types on our lattice). */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype of `tensor op number` where the number is weakly typed (see the note above). */
export function promoteWithScalar(d: DType, value: number): DType {
  if (isFloat(d)) return d;
  if (!Number.isInteger(value)) return 'float32';
  return d === 'bool' ? 'int32' : d;
}

/** Arithmetic treats bool operands as int32 (True + True is 2, as in NumPy's sum). */
export function arithmeticType(d: DType): DType {
  return d === 'bool' ? 'int32' : d;
}

/** The floating dtype an op like div, mean or exp produces from an input dtype. */
export function floatType(d: DType): DType {
  return d === 'float64' ? 'float64' : 'float32';
}

export function typedArrayFor(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
    case 'float64':
      return new Float64Array(size);
  }
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
}

/**
 * Converts any numeric array to the storage array of `dtype`: bool is `x != 0` (NaN is true, as
 * in NumPy and as st.cast does), int32 truncates toward zero. Callers check int32 ranges first
 * (checkInt32Values); an Int32Array store would otherwise wrap 3e9 to -1294967296.
 */
export function toTypedArray(values: ArrayLike<number>, dtype: DType): TypedArray {
  const out = typedArrayFor(dtype, values.length);
  if (dtype === 'bool') {
    for (let i = 0; i < values.length; i++) out[i] = values[i] !== 0 ? 1 : 0;
  } else {
    out.set(values as ArrayLike<number>);
  }
  return out;
}

// Note [int32 holds what it is given, or refuses]
// Storing a JavaScript number into an Int32Array wraps it modulo 2^32 (3e9 becomes -1294967296)
// and turns NaN and ±Infinity into 0; C++'s float-to-int conversion is undefined out of range
// (x86 gives -2^31). Either way a value silently becomes another, so every way a number enters an
// int32 tensor refuses what int32 cannot hold, with a DtypeError naming the value and its index:
//   - creation: st.tensor (nested arrays, number arrays, Float32Array/Float64Array given
//     dtype 'int32'), st.full and what is built on it (zeros, ones, the scalars ops make from
//     plain numbers: int32 + 3e9 fails as NumPy 2 fails it), arange, pad's constant value;
//   - st.cast(float -> int32): the kernel checks each value as it converts (no extra pass and no
//     host read: the check costs nothing next to the conversion), so a cast on a backend-resident
//     tensor fails at the call, like every other invalid call;
//   - int32 sum and prod: accumulated exactly (int64 in C++, split halves in the reference
//     backend) and refused when the result leaves the range (Note [int32 reductions] in
//     backend/reference/reduce.ts).
// Fractional values are truncated toward zero on creation and cast (2.7 -> 2, -2.7 -> -2), as
// NumPy's astype and torch.tensor(..., dtype=int32) do: that is a conversion, not an overflow.
// Elementwise int32 arithmetic (add, sub, mul, neg, abs, pow, ...) wraps modulo 2^32 on every
// backend, as NumPy and PyTorch do for integer arrays: checking each element of every integer
// op would cost a pass per op for a case integer code rarely meets, and wrapping is what users
// of those libraries expect. add, sub and mul wrap exactly (int64 or Math.imul); pow wraps the
// float64 power, which is exact only below 2^53.

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
const INT32_RANGE = `[${INT32_MIN}, ${INT32_MAX}]`;

/** Whether `v` becomes an int32 without wrapping: it truncates toward zero into the range (NaN and ±Infinity do not). */
export function fitsInt32(v: number): boolean {
  return v > INT32_MIN - 1 && v < INT32_MAX + 1;
}

/** The row-major index of flat position `i` in `shape`, as messages print it: [1, 0]. */
export function fmtIndex(i: number, shape: readonly number[]): string {
  const index: number[] = [];
  let rest = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return `[${(shape.length ? index : [i]).join(', ')}]`;
}

/** The error for a value int32 cannot hold; `at` names its index when there is one. */
export function int32RangeError(op: string, value: number, at?: string): DtypeError {
  const where = at === undefined ? 'value' : `value at index ${at}`;
  return new DtypeError(
    `${op}: ${where} does not fit in int32: expected a finite number in ${INT32_RANGE}; received ${fmtValue(value)} (use float32 for values outside that range)`,
  );
}

/** Refuses the first value int32 cannot hold (see Note [int32 holds what it is given, or refuses]). */
export function checkInt32Values(op: string, values: ArrayLike<number>, shape: readonly number[]): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v > INT32_MIN - 1 && v < INT32_MAX + 1)) throw int32RangeError(op, v, fmtIndex(i, shape));
  }
}

/** The error for an int32 sum or product whose exact result is out of range (we have no int64 dtype). */
export function int32OverflowError(op: string, value: number, at: string): DtypeError {
  return new DtypeError(
    `${op}: the int32 result at index ${at} overflows: expected a result in ${INT32_RANGE}; received ${fmtValue(value)} (Strata has no int64: cast to float32 first, e.g. st.${op}(st.cast(x, 'float32')))`,
  );
}
