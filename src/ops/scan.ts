import { arithmeticType } from '../core/dtype.js';
import { normalizeAxis } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, mul } from './elementwise.js';
import { asTensor, type TensorInput } from './operand.js';
import { pad, reshape, slice } from './shape-ops.js';

// Note [Prefix sums by doubling]
// cumsum and cumprod are Hillis and Steele's scan: after step k every element holds the sum (or
// product) of the 2^k elements ending at it, so ceil(log2 n) steps of "add a copy shifted by 2^k
// along the axis" finish the job. A shift is a slice and a pad with the identity (0 or 1), so
// the scan is pad, slice and add/mul primitives: every backend runs it and autograd
// differentiates it (the gradient of a cumsum is the reversed cumsum of the gradient, which is
// what those primitives' rules compose to). cumprod's gradient comes from products only, never a
// division by x, so zeros in x are handled exactly.

type Combine = (a: Tensor, b: Tensor) => Tensor;

/** x moved `by` places along `axis` (towards the end, or the start when `reverse`), filled with `fill`. */
function shift(x: Tensor, axis: number, by: number, fill: number, reverse: boolean): Tensor {
  const n = x.shape[axis];
  const keep = Math.max(n - by, 0);
  const begin = x.shape.map((_, i) => (i === axis && reverse ? Math.min(by, n) : 0));
  const size = x.shape.map((d, i) => (i === axis ? keep : d));
  const kept = slice(x, begin, size);
  const amount = Math.min(by, n);
  return pad(
    kept,
    x.shape.map((_, i) => (i === axis ? (reverse ? [0, amount] : [amount, 0]) : [0, 0]) as [number, number]),
    fill,
  );
}

function scan(op: string, combine: Combine, identity: number, x: TensorInput, axis: number, exclusive: boolean, reverse: boolean): Tensor {
  const input = asTensor(op, 'x', x);
  let t = cast(input, arithmeticType(input.dtype));
  if (t.rank === 0) t = reshape(t, [1]);
  const a = normalizeAxis(op, axis, t.rank);
  const n = t.shape[a];
  let y = exclusive ? shift(t, a, 1, identity, reverse) : t;
  for (let by = 1; by < n; by *= 2) y = combine(y, shift(y, a, by, identity, reverse));
  return reshape(y, input.shape);
}

/**
 * Cumulative sum along `axis` (default 0; tfjs's cumsum): `exclusive` leaves each element out of
 * its own sum, `reverse` sums from the end. bool counts as int32. Note [Prefix sums by doubling].
 */
export function cumsum(x: TensorInput, axis = 0, exclusive = false, reverse = false): Tensor {
  return scan('cumsum', add, 0, x, axis, exclusive, reverse);
}

/** Cumulative product along `axis` (default 0), with cumsum's `exclusive` and `reverse`. */
export function cumprod(x: TensorInput, axis = 0, exclusive = false, reverse = false): Tensor {
  return scan('cumprod', mul, 1, x, axis, exclusive, reverse);
}
