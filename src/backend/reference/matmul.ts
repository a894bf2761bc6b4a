import { typedArrayFor, type TypedArray } from '../../core/dtype.js';
import type { Kernel } from '../backend.js';

/**
 * Batched matmul on [B, M, K] x [B, K, N] (either operand optionally transposed). The loop
 * order keeps the innermost loop on contiguous memory: i-k-j when B is untransposed (a row
 * of B streams into a row accumulator), i-j-k dot products when it is transposed.
 * Accumulates in float64.
 */
export const matmulKernel: Kernel<'matmul'> = ([a, b], { transposeA, transposeB }, out) => {
  const av = a.data as TypedArray,
    bv = b.data as TypedArray;
  const [batch, m, n] = out.shape;
  const k = transposeA ? a.shape[1] : a.shape[2];
  const ys = typedArrayFor(out.dtype, batch * m * n);
  const row = new Float64Array(n);
  // Element (i, p) of op(A) and (p, j) of op(B), as strides.
  const aRow = transposeA ? 1 : k,
    aCol = transposeA ? m : 1;
  for (let t = 0; t < batch; t++) {
    const aBase = t * m * k,
      bBase = t * k * n,
      yBase = t * m * n;
    for (let i = 0; i < m; i++) {
      if (!transposeB) {
        row.fill(0);
        for (let p = 0; p < k; p++) {
          const aip = av[aBase + i * aRow + p * aCol];
          const bOff = bBase + p * n;
          for (let j = 0; j < n; j++) row[j] += aip * bv[bOff + j];
        }
        for (let j = 0; j < n; j++) ys[yBase + i * n + j] = row[j];
      } else {
        for (let j = 0; j < n; j++) {
          let s = 0;
          const bOff = bBase + j * k;
          for (let p = 0; p < k; p++) s += av[aBase + i * aRow + p * aCol] * bv[bOff + p];
          ys[yBase + i * n + j] = s;
        }
      }
    }
  }
  return ys;
};
