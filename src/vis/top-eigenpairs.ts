// The largest eigenvalues of a symmetric positive semi-definite matrix and their eigenvectors, in
// float64 on the host, for PCA. Cyclic Jacobi rotations solve small matrices exactly; a large
// one (a covariance of a thousand features) goes through subspace iteration with a Rayleigh-Ritz
// step each round, so only a block of k + 8 vectors is ever multiplied by the matrix, and stops
// when every wanted pair's residual |S v - lambda v| is below a tolerance.

import { StrataError } from '../core/errors.js';

/** Eigenpairs, largest eigenvalue first; vectors[i] belongs to values[i] and has unit length. */
export interface Eigenpairs {
  values: number[];
  vectors: Float64Array[];
  /** Rounds of subspace iteration (0 when the matrix was small enough to solve directly). */
  iterations: number;
}

/** Largest |entry| off the diagonal of the n x n row-major matrix a. */
function offDiagonal(a: Float64Array, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) m = Math.max(m, Math.abs(a[i * n + j]));
  return m;
}

/**
 * Every eigenpair of the symmetric n x n row-major matrix `a` by cyclic Jacobi rotations (each
 * zeroes one off-diagonal entry; sweeps repeat until the off-diagonal part is negligible).
 * Returned largest eigenvalue first.
 */
export function jacobiEigen(matrix: Float64Array, n: number): { values: number[]; vectors: Float64Array[] } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(a[i]));
  for (let sweep = 0; sweep < 100 && offDiagonal(a, n) > 1e-15 * scale; sweep++) {
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // The rotation angle that zeroes a[p][q]: tan(2 theta) = 2 apq / (aqq - app), the smaller root for stability.
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // Columns p and q of a (a <- a J) ...
          const akp = a[k * n + p],
            akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          // ... then rows p and q (a <- J^T a), and the rotations accumulate in v's columns.
          const apk = a[p * n + k],
            aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
          const vkp = v[k * n + p],
            vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  return {
    values: order.map((i) => a[i * n + i]),
    vectors: order.map((i) => Float64Array.from({ length: n }, (_, k) => v[k * n + i])),
  };
}

/**
 * Orthonormalizes the columns in place by Gram-Schmidt, each column against the earlier ones
 * twice (once is not enough in floating point). A column that (numerically) lies in the span of
 * the earlier ones, as when the matrix's rank is below the block's width, is replaced by a fresh
 * draw of `random`: normalizing what rounding left of it would give a vector that is not orthogonal.
 */
function orthonormalize(columns: Float64Array[], random: () => number): void {
  const norm = (c: Float64Array) => Math.sqrt(c.reduce((acc, e) => acc + e * e, 0));
  for (let j = 0; j < columns.length; j++) {
    const cj = columns[j];
    for (;;) {
      const before = norm(cj);
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i < j; i++) {
          const ci = columns[i];
          let d = 0;
          for (let k = 0; k < cj.length; k++) d += ci[k] * cj[k];
          for (let k = 0; k < cj.length; k++) cj[k] -= d * ci[k];
        }
      }
      const after = norm(cj);
      if (before > 0 && after > 1e-8 * before) {
        for (let k = 0; k < cj.length; k++) cj[k] /= after;
        break;
      }
      for (let k = 0; k < cj.length; k++) cj[k] = random();
    }
  }
}

/** S q for the symmetric n x n row-major matrix S. */
function multiply(s: Float64Array, n: number, q: Float64Array): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    const row = i * n;
    for (let k = 0; k < n; k++) acc += s[row + k] * q[k];
    out[i] = acc;
  }
  return out;
}

/** Matrices up to this size are solved directly by Jacobi rotations. */
const DIRECT = 64;

/**
 * The k largest eigenpairs of the symmetric positive semi-definite n x n row-major matrix `s`.
 * Each pair's residual |S v - lambda v| ends below `tolerance` times the largest eigenvalue;
 * subspace iteration that has not reached it after `maxIterations` rounds is an error, not a
 * silently rough answer.
 */
export function topEigenpairs(s: Float64Array, n: number, k: number, tolerance = 1e-9, maxIterations = 2000): Eigenpairs {
  if (n <= DIRECT) {
    const all = jacobiEigen(s, n);
    return { values: all.values.slice(0, k), vectors: all.vectors.slice(0, k), iterations: 0 };
  }
  const m = Math.min(n, k + 8);
  // A fixed start (a small linear congruential sequence), so the same matrix gives the same answer.
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  let q: Float64Array[] = Array.from({ length: m }, () => Float64Array.from({ length: n }, next));
  orthonormalize(q, next);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const w = q.map((col) => multiply(s, n, col));
    // Rayleigh-Ritz: the eigenpairs of the block's m x m projection Q^T S Q give the best
    // approximations the subspace holds.
    const b = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let t = 0; t < n; t++) b[i * m + j] += q[i][t] * w[j][t];
    for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) b[i * m + j] = b[j * m + i] = (b[i * m + j] + b[j * m + i]) / 2;
    const small = jacobiEigen(b, m);
    const ritz = small.vectors.map((u) => combine(q, u, n));
    const sRitz = small.vectors.map((u) => combine(w, u, n));
    const top = Math.max(Math.abs(small.values[0]), 1e-300);
    let worst = 0;
    for (let i = 0; i < k; i++) {
      let r = 0;
      for (let t = 0; t < n; t++) r += (sRitz[i][t] - small.values[i] * ritz[i][t]) ** 2;
      worst = Math.max(worst, Math.sqrt(r) / top);
    }
    if (worst < tolerance) return { values: small.values.slice(0, k), vectors: ritz.slice(0, k), iterations: iteration };
    q = sRitz;
    orthonormalize(q, next);
  }
  throw new StrataError(`topEigenpairs: no convergence to ${tolerance} in ${maxIterations} rounds of subspace iteration (n = ${n}, k = ${k})`);
}

/** The columns `cols` combined with weights u: sum_i u[i] cols[i]. */
function combine(cols: Float64Array[], u: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i],
      ui = u[i];
    for (let t = 0; t < n; t++) out[t] += ui * c[t];
  }
  return out;
}
