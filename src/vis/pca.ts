// Principal component analysis: the directions along which samples vary most, and the samples'
// coordinates along them (as scikit-learn's PCA defines them: variance with the n - 1
// denominator, ratios over the total variance, no whitening). The covariance (or, with fewer
// samples than features, the Gram matrix, which has the same nonzero eigenvalues) is one matrix
// product on the tensors' backend; its leading eigenpairs are found in float64 on the host.

import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { cast, sub } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { mean } from '../ops/reduction.js';
import { reshape } from '../ops/shape-ops.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { topEigenpairs } from './top-eigenpairs.js';

/** Options of {@link vis.pca}. */
export interface PcaOptions {
  /** How many principal components to keep (default 2); at most min(samples, features). */
  components?: number;
}

/** What {@link vis.pca} finds. */
export interface PcaResult {
  /** Shape `[samples, components]`: each sample's coordinates along the principal axes (its projection). */
  projected: Tensor;
  /** Shape `[components, features]`: the principal axes, unit length, largest variance first; each axis's largest entry is positive. */
  components: Tensor;
  /** Shape `[features]`: the mean sample, subtracted before projecting. */
  mean: Tensor;
  /** The variance along each axis (the covariance's eigenvalues, n - 1 denominator). */
  explainedVariance: number[];
  /** Each axis's share of the total variance, in [0, 1]. */
  explainedVarianceRatio: number[];
  /** The total variance (the covariance's trace): the sum of every axis's variance. */
  totalVariance: number;
}

/**
 * Principal component analysis of `x` (`[samples, ...features]`; the features are flattened): its
 * principal axes, the variance along each, and the samples projected onto them. Matches
 * scikit-learn's `PCA(n_components).fit_transform` up to each axis's sign, which here is fixed
 * so that the largest entry of each axis is positive.
 *
 * ```ts
 * const { projected, explainedVarianceRatio } = await st.vis.pca(activations, { components: 2 });
 * ```
 */
export async function pca(x: Tensor, options: PcaOptions = {}): Promise<PcaResult> {
  checkKeys('pca', options, ['components']);
  const k = options.components ?? 2;
  if (x.shape.length < 2) throw new ShapeError(`pca: expected samples of shape [samples, ...features]; received ${fmtShape(x.shape)}`);
  const n = x.shape[0];
  const d = x.shape.slice(1).reduce((a, b) => a * b, 1);
  if (n < 2) throw new ValueError(`pca: needs at least 2 samples; received ${n}`);
  if (!Number.isInteger(k) || k < 1 || k > Math.min(n, d))
    throw new ValueError(`pca: components must be an integer in [1, ${Math.min(n, d)}] (min(samples, features)); received ${k}`);
  const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
  const flat = reshape(x.dtype === dtype ? x : cast(x, dtype), [n, d]);
  const mu = mean(flat, 0);
  const centred = sub(flat, mu);
  // The smaller of X^T X (features x features) and X X^T (samples x samples): same nonzero eigenvalues.
  const gram = d > n;
  const size = gram ? n : d;
  const product = matmul(centred, centred, !gram, gram);
  const s = Float64Array.from(await product.data(), (v) => v / (n - 1));
  product.dispose();
  let total = 0;
  for (let i = 0; i < size; i++) total += s[i * size + i];
  const pairs = topEigenpairs(s, size, k);
  let axes = pairs.vectors;
  if (gram) {
    // An eigenvector u of X X^T gives the axis X^T u / |X^T u| (the feature-space eigenvector).
    const xc = Float64Array.from(await centred.data());
    axes = axes.map((u) => {
      const v = new Float64Array(d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) v[j] += u[i] * xc[i * d + j];
      let norm = 0;
      for (let j = 0; j < d; j++) norm += v[j] * v[j];
      norm = Math.sqrt(norm) || 1;
      return v.map((e) => e / norm);
    });
  }
  const signed = axes.map((v) => {
    let at = 0;
    for (let j = 1; j < v.length; j++) if (Math.abs(v[j]) > Math.abs(v[at]) + 1e-12) at = j;
    return v[at] < 0 ? v.map((e) => -e) : v;
  });
  const components = tensor(
    signed.flatMap((v) => Array.from(v)),
    [k, d],
    dtype,
  );
  const projected = matmul(centred, components, false, true);
  centred.dispose();
  const variance = pairs.values.map((v) => Math.max(v, 0));
  return {
    projected,
    components,
    mean: mu,
    explainedVariance: variance,
    explainedVarianceRatio: variance.map((v) => (total > 0 ? v / total : 0)),
    totalVariance: total,
  };
}
