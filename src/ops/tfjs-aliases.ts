import type { DType } from '../core/dtype.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import { arange, tensor, type TensorLike } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast, mul } from './elementwise.js';
import { reverse } from './indexing.js';
import { matmul } from './linalg.js';
import { asTensor, type TensorInput } from './operand.js';
import { concat, pad, slice } from './shape-ops.js';

// tfjs's rank-specific spellings of general ops, so code ported from tfjs keeps its calls. Each
// checks the rank its name promises, then calls the general op.

function ofRank(op: string, x: TensorInput, rank: number): Tensor {
  const t = asTensor(op, 'x', x);
  if (t.rank !== rank) throw new ShapeError(`${op}: expected a tensor of rank ${rank}; received shape ${fmtShape(t.shape)}`);
  return t;
}

function made(op: string, rank: number, values: TensorLike | number, shape?: readonly number[], dtype?: DType): Tensor {
  const t = tensor(values as TensorLike, shape, dtype);
  if (t.rank !== rank) throw new ShapeError(`${op}: expected values of rank ${rank}; received shape ${fmtShape(t.shape)}`);
  return t;
}

/** A rank-0 tensor (tfjs's scalar). */
export const scalar = (value: number | boolean, dtype?: DType): Tensor => made('scalar', 0, value as unknown as TensorLike, [], dtype);
/** A 1-D tensor (tfjs's tensor1d). */
export const tensor1d = (values: TensorLike, dtype?: DType): Tensor => made('tensor1d', 1, values, undefined, dtype);
/** A 2-D tensor (tfjs's tensor2d). */
export const tensor2d = (values: TensorLike, shape?: readonly number[], dtype?: DType): Tensor => made('tensor2d', 2, values, shape, dtype);
/** A 3-D tensor (tfjs's tensor3d). */
export const tensor3d = (values: TensorLike, shape?: readonly number[], dtype?: DType): Tensor => made('tensor3d', 3, values, shape, dtype);
/** A 4-D tensor (tfjs's tensor4d). */
export const tensor4d = (values: TensorLike, shape?: readonly number[], dtype?: DType): Tensor => made('tensor4d', 4, values, shape, dtype);
/** A 5-D tensor (tfjs's tensor5d). */
export const tensor5d = (values: TensorLike, shape?: readonly number[], dtype?: DType): Tensor => made('tensor5d', 5, values, shape, dtype);
/** A 6-D tensor (tfjs's tensor6d). */
export const tensor6d = (values: TensorLike, shape?: readonly number[], dtype?: DType): Tensor => made('tensor6d', 6, values, shape, dtype);

/** Concatenation of 1-D tensors (tfjs's concat1d). */
export const concat1d = (xs: readonly TensorInput[]): Tensor =>
  concat(
    xs.map((x) => ofRank('concat1d', x, 1)),
    0,
  );
/** Concatenation of 2-D tensors along `axis` (tfjs's concat2d). */
export const concat2d = (xs: readonly TensorInput[], axis = 0): Tensor =>
  concat(
    xs.map((x) => ofRank('concat2d', x, 2)),
    axis,
  );
/** Concatenation of 3-D tensors along `axis` (tfjs's concat3d). */
export const concat3d = (xs: readonly TensorInput[], axis = 0): Tensor =>
  concat(
    xs.map((x) => ofRank('concat3d', x, 3)),
    axis,
  );
/** Concatenation of 4-D tensors along `axis` (tfjs's concat4d). */
export const concat4d = (xs: readonly TensorInput[], axis = 0): Tensor =>
  concat(
    xs.map((x) => ofRank('concat4d', x, 4)),
    axis,
  );

/** A block of a 1-D tensor (tfjs's slice1d). */
export const slice1d = (x: TensorInput, begin: number, size: number): Tensor => slice(ofRank('slice1d', x, 1), [begin], [size]);
/** A block of a 2-D tensor (tfjs's slice2d). */
export const slice2d = (x: TensorInput, begin: readonly number[], size: readonly number[]): Tensor => slice(ofRank('slice2d', x, 2), begin, size);
/** A block of a 3-D tensor (tfjs's slice3d). */
export const slice3d = (x: TensorInput, begin: readonly number[], size: readonly number[]): Tensor => slice(ofRank('slice3d', x, 3), begin, size);
/** A block of a 4-D tensor (tfjs's slice4d). */
export const slice4d = (x: TensorInput, begin: readonly number[], size: readonly number[]): Tensor => slice(ofRank('slice4d', x, 4), begin, size);

/** A 1-D tensor reversed (tfjs's reverse1d). */
export const reverse1d = (x: TensorInput): Tensor => reverse(ofRank('reverse1d', x, 1));
/** A 2-D tensor reversed along `axis` (all axes by default; tfjs's reverse2d). */
export const reverse2d = (x: TensorInput, axis?: number | readonly number[]): Tensor => reverse(ofRank('reverse2d', x, 2), axis);
/** A 3-D tensor reversed along `axis` (tfjs's reverse3d). */
export const reverse3d = (x: TensorInput, axis?: number | readonly number[]): Tensor => reverse(ofRank('reverse3d', x, 3), axis);
/** A 4-D tensor reversed along `axis` (tfjs's reverse4d). */
export const reverse4d = (x: TensorInput, axis?: number | readonly number[]): Tensor => reverse(ofRank('reverse4d', x, 4), axis);

/** Constant padding of a 1-D tensor by [before, after] (tfjs's pad1d). */
export const pad1d = (x: TensorInput, paddings: readonly [number, number], constantValue = 0): Tensor =>
  pad(ofRank('pad1d', x, 1), [paddings], constantValue);
/** Constant padding of a 2-D tensor (tfjs's pad2d). */
export const pad2d = (x: TensorInput, paddings: readonly (readonly [number, number])[], constantValue = 0): Tensor =>
  pad(ofRank('pad2d', x, 2), paddings, constantValue);
/** Constant padding of a 3-D tensor (tfjs's pad3d). */
export const pad3d = (x: TensorInput, paddings: readonly (readonly [number, number])[], constantValue = 0): Tensor =>
  pad(ofRank('pad3d', x, 3), paddings, constantValue);
/** Constant padding of a 4-D tensor (tfjs's pad4d). */
export const pad4d = (x: TensorInput, paddings: readonly (readonly [number, number])[], constantValue = 0): Tensor =>
  pad(ofRank('pad4d', x, 4), paddings, constantValue);

/** tfjs's spelling of st.matmul. */
export const matMul = (a: TensorInput, b: TensorInput, transposeA = false, transposeB = false): Tensor => matmul(a, b, transposeA, transposeB);

/**
 * Values from start to stop (exclusive) by step, float32 unless `dtype` says otherwise (tfjs's
 * range; st.arange picks int32 for integer arguments).
 */
export const range = (start: number, stop: number, step = 1, dtype: DType = 'float32'): Tensor => arange(start, stop, step, dtype);

/** A new tensor with x's values (x * 1, so gradients pass through; tfjs's clone). */
export function clone(x: TensorInput): Tensor {
  const t = asTensor('clone', 'x', x);
  return cast(mul(t, 1), t.dtype);
}
