import { DtypeError, ValueError } from '../core/errors.js';
import { promoteTypes, promoteWithScalar, type DType } from '../core/dtype.js';
import { getBackend } from '../backend/registry.js';
import { filled, tensor, type TensorLike } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';

/** What ops accept where a tensor is expected: a tensor, a number, a boolean or nested arrays. */
export type TensorInput = Tensor | TensorLike;

// Plain numbers in ops (x.add(1), where(c, g, 0)) become scalar tensors. Tensors are immutable,
// so one scalar per (backend, dtype, value) can serve every call: a fresh one would cost an
// allocation on the backend for each op. The cache is small and simply starts over when full.
const scalarCache = new Map<string, Tensor>();
const SCALAR_CACHE_SIZE = 1024;

function scalar(op: string, value: number, dtype: DType): Tensor {
  const key = `${getBackend().name}|${dtype}|${Object.is(value, -0) ? '-0' : value}`;
  const cached = scalarCache.get(key);
  if (cached && !cached.isDisposed) return cached;
  if (scalarCache.size >= SCALAR_CACHE_SIZE) scalarCache.clear();
  const t = filled(op, [], value, dtype);
  scalarCache.set(key, t);
  return t;
}

/** Converts an op argument to a tensor, naming the op and argument when it cannot. */
export function asTensor(op: string, name: string, x: TensorInput, dtype?: DType): Tensor {
  if (x instanceof Tensor) return x;
  if (x === undefined || x === null) throw new ValueError(`${op}: argument '${name}' is required; received ${x}`);
  if (typeof x === 'number') return scalar(op, x, dtype ?? 'float32');
  return tensor(x as TensorLike, undefined, dtype);
}

/** The dtype two operands combine to; a bare number is weakly typed (see Note [Dtypes and promotion]). */
export function resultType(a: TensorInput, b: TensorInput): DType {
  const isScalar = (x: TensorInput): x is number => typeof x === 'number';
  if (a instanceof Tensor && b instanceof Tensor) return promoteTypes(a.dtype, b.dtype);
  if (a instanceof Tensor && isScalar(b)) return promoteWithScalar(a.dtype, b);
  if (b instanceof Tensor && isScalar(a)) return promoteWithScalar(b.dtype, a);
  const ta = asTensor('op', 'a', a),
    tb = asTensor('op', 'b', b);
  return promoteTypes(ta.dtype, tb.dtype);
}

export function requireFloat(op: string, t: Tensor): void {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') {
    throw new DtypeError(`${op}: expected a floating tensor (float32); received ${t.dtype} of shape [${t.shape.join(', ')}]`);
  }
}

export function requireDtype(op: string, name: string, t: Tensor, allowed: readonly DType[]): void {
  if (!allowed.includes(t.dtype)) {
    throw new DtypeError(`${op}: ${name} must have dtype ${allowed.join(' or ')}; received ${t.dtype} of shape [${t.shape.join(', ')}]`);
  }
}
