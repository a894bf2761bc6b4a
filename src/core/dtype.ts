import { DtypeError } from './errors.js';

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

export type DType = 'float32' | 'int32' | 'bool' | 'float64';
export type TypedArray = Float32Array | Int32Array | Uint8Array | Float64Array;

export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

export function assertDType(op: string, x: unknown): DType {
  if (!isDType(x)) {
    throw new DtypeError(`${op}: dtype must be one of 'float32', 'int32', 'bool'; received ${JSON.stringify(x)}`);
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
    case 'float32': return new Float32Array(size);
    case 'int32': return new Int32Array(size);
    case 'bool': return new Uint8Array(size);
    case 'float64': return new Float64Array(size);
  }
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
}

/** Converts any numeric array to the storage array of `dtype` (bool becomes 0/1, int32 truncates). */
export function toTypedArray(values: ArrayLike<number>, dtype: DType): TypedArray {
  const out = typedArrayFor(dtype, values.length);
  if (dtype === 'bool') {
    for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
  } else {
    out.set(values as ArrayLike<number>);
  }
  return out;
}
