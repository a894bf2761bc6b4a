import { promoteTypes, arithmeticType } from '../core/dtype.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import { broadcastShapes, sizeOf } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast, mul } from './elementwise.js';
import { asTensor, type TensorInput } from './operand.js';
import { sum } from './reduction.js';
import { runPrimitive } from './run.js';
import { broadcastTo, reshape, squeeze } from './shape-ops.js';
import { releaseTemporaries } from './temporaries.js';

/** The primitive on [B, M, K] x [B, K, N] (operands optionally transposed); used by gradients too. */
export function batchMatmul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  const [batch, m, ka] = transposeA ? [a.shape[0], a.shape[2], a.shape[1]] : a.shape;
  const [, kb, n] = transposeB ? [b.shape[0], b.shape[2], b.shape[1]] : b.shape;
  if (ka !== kb || a.shape[0] !== b.shape[0]) {
    throw new ShapeError(`matmul: inner dimensions differ: a is ${fmtShape(a.shape)}, b is ${fmtShape(b.shape)}`);
  }
  return runPrimitive('matmul', [a, b], { transposeA, transposeB }, [batch, m, n], a.dtype);
}

/**
 * Matrix product with NumPy semantics: 1-D operands are promoted to a row (a) or column (b)
 * and that dimension is removed again; leading dimensions are batch dimensions and broadcast.
 * `transposeA`/`transposeB` use an operand's transpose (of its last two axes). Also a method:
 * `a.matmul(b)`.
 * @throws ShapeError when the inner dimensions differ or the batch dimensions do not broadcast.
 * @example
 * ```ts
 * const a = st.tensor([[1, 2], [3, 4]]);
 * console.log(await st.matmul(a, a).array());       // [[7, 10], [15, 22]]
 * console.log(await st.matmul(a, a, true).array()); // aᵀ · a = [[10, 14], [14, 20]]
 * ```
 */
export function matmul(a: TensorInput, b: TensorInput, transposeA = false, transposeB = false): Tensor {
  const inputA = asTensor('matmul', 'a', a),
    inputB = asTensor('matmul', 'b', b);
  let ta = inputA,
    tb = inputB;
  if (ta.rank === 0 || tb.rank === 0) {
    throw new ShapeError(`matmul: operands must have rank >= 1; a is ${fmtShape(ta.shape)}, b is ${fmtShape(tb.shape)}`);
  }
  const shapeA = ta.shape,
    shapeB = tb.shape;
  const dtype = arithmeticType(promoteTypes(ta.dtype, tb.dtype));
  const castA = cast(ta, dtype),
    castB = cast(tb, dtype);
  ta = castA;
  tb = castB;
  const vecA = ta.rank === 1,
    vecB = tb.rank === 1;
  if (vecA) ta = reshape(ta, [1, ta.shape[0]]);
  if (vecB) tb = reshape(tb, [tb.shape[0], 1]);
  const [m, ka] = transposeA ? [ta.shape[ta.rank - 1], ta.shape[ta.rank - 2]] : ta.shape.slice(-2);
  const [kb, n] = transposeB ? [tb.shape[tb.rank - 1], tb.shape[tb.rank - 2]] : tb.shape.slice(-2);
  if (ka !== kb) {
    throw new ShapeError(`matmul: inner dimensions differ: a is ${fmtShape(shapeA)}, b is ${fmtShape(shapeB)}`);
  }
  const batchShape = broadcastShapes('matmul', ta.shape.slice(0, -2), tb.shape.slice(0, -2));
  const batch = sizeOf(batchShape);
  const wideA = broadcastTo(ta, [...batchShape, ...ta.shape.slice(-2)]),
    wideB = broadcastTo(tb, [...batchShape, ...tb.shape.slice(-2)]);
  const a3 = reshape(wideA, [batch, ...ta.shape.slice(-2)]);
  const b3 = reshape(wideB, [batch, ...tb.shape.slice(-2)]);
  const product = batchMatmul(a3, b3, transposeA, transposeB);
  const shaped = reshape(product, [...batchShape, m, n]);
  let y = shaped;
  if (vecA) y = squeeze(y, -2);
  if (vecB) y = squeeze(y, -1);
  // Note [Releasing an op's temporaries]
  releaseTemporaries(y, [castA, castB, ta, tb, wideA, wideB, a3, b3, product, shaped], [inputA, inputB]);
  return y;
}

/** The dot product of vectors, or matmul for matrices (rank <= 2, as tf.dot). */
export function dot(a: TensorInput, b: TensorInput): Tensor {
  const ta = asTensor('dot', 'a', a),
    tb = asTensor('dot', 'b', b);
  if (ta.rank > 2 || tb.rank > 2 || ta.rank === 0 || tb.rank === 0) {
    throw new ShapeError(`dot: operands must have rank 1 or 2 (use matmul for batches); a is ${fmtShape(ta.shape)}, b is ${fmtShape(tb.shape)}`);
  }
  if (ta.rank === 1 && tb.rank === 1) {
    if (ta.shape[0] !== tb.shape[0]) throw new ShapeError(`dot: vector lengths differ: a is ${fmtShape(ta.shape)}, b is ${fmtShape(tb.shape)}`);
    return sum(mul(ta, tb));
  }
  return matmul(ta, tb);
}
