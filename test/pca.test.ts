// st.vis.pca against PyTorch (scripts/make_pca_fixtures.py: the SVD of the centred data in
// float64, with scikit-learn's definitions), on every backend in float32 and on the reference
// backend in float64; an exact case worked by hand; the eigen solver on matrices whose
// eigenpairs are known, including repeated eigenvalues and a rank below the block's width.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { jacobiEigen, topEigenpairs } from '../src/vis/top-eigenpairs.js';
import { blob, fixtureRuns, loadFixture, type Blob } from './fixture-harness.js';
import { assertClose, assertCloseAsync, withBackendAsync } from './helpers.js';

interface Case {
  name: string;
  components: number;
  input: Blob;
  mean: Blob;
  componentsMatrix: Blob;
  explainedVariance: number[];
  explainedVarianceRatio: number[];
  projected: Blob;
}

const fixtures = loadFixture<Case>('pca.json');
// float32 covariances lose about 1e-6 relative per entry; the axes move by that over the eigenvalue gaps.
const runs = await fixtureRuns({ rtol: 2e-3, atol: 2e-3 });

describe('st.vis.pca matches the SVD of the centred data (PyTorch, float64)', () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const r = await st.vis.pca(blob(c.input, run.dtype), { components: c.components });
            assert.deepEqual(r.projected.shape, c.projected.shape);
            assert.deepEqual(r.components.shape, c.componentsMatrix.shape);
            await assertCloseAsync(r.mean, blob(c.mean, run.dtype), run.rtol, run.atol, 'mean');
            await assertCloseAsync(r.components, blob(c.componentsMatrix, run.dtype), run.rtol, run.atol, 'components');
            await assertCloseAsync(r.projected, blob(c.projected, run.dtype), run.rtol, run.atol * 10, 'projected');
            assertClose(r.explainedVariance, c.explainedVariance, run.rtol, run.atol, 'explained variance');
            assertClose(r.explainedVarianceRatio, c.explainedVarianceRatio, run.rtol, run.atol, 'explained variance ratio');
          }),
        );
      }
    });
  }
});

describe('st.vis.pca on cases worked by hand', () => {
  it('four points on the axes of a rotated, shifted ellipse: the axes, variances 6 and 2/3, ratio 0.9', () =>
    withBackendAsync('reference', async () => {
      // (±3, 0) and (0, ±1) have covariance diag(18, 2) / 3; rotated by 30 degrees and shifted by (5, -2).
      const angle = Math.PI / 6;
      const [c, s] = [Math.cos(angle), Math.sin(angle)];
      const points = [
        [3, 0],
        [-3, 0],
        [0, 1],
        [0, -1],
      ].map(([u, v]) => [c * u - s * v + 5, s * u + c * v - 2]);
      const r = await st.vis.pca(st.tensor(points, undefined, 'float64'), { components: 2 });
      assertClose(r.explainedVariance, [6, 2 / 3], 1e-12, 1e-12);
      assertClose(r.explainedVarianceRatio, [0.9, 0.1], 1e-12, 1e-12);
      assertClose(r.totalVariance, 6 + 2 / 3, 1e-12, 1e-12);
      assertClose(r.mean, [5, -2], 1e-12, 1e-12);
      // The major axis is (cos 30, sin 30), its largest entry positive; the minor one (-sin 30, cos 30).
      assertClose(r.components, [c, s, -s, c], 1e-12, 1e-12);
      assertClose(r.projected, [3, 0, -3, 0, 0, 1, 0, -1], 1e-12, 1e-12);
    }));

  it('images of any rank are flattened, and integer inputs are taken as float32', async () => {
    const x = st.tensor([0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4], [3, 2, 2, 1], 'int32');
    const r = await st.vis.pca(x, { components: 1 });
    assert.deepEqual(r.components.shape, [1, 4]);
    assert.equal(r.projected.dtype, 'float32');
    assertClose(r.components, [0.5, 0.5, 0.5, 0.5], 1e-6, 1e-6);
    assertClose(r.projected, [-4, 0, 4], 1e-5, 1e-5);
    assertClose(r.explainedVarianceRatio, [1], 1e-6, 1e-6);
  });

  it('names what it expected when the input or options are wrong', async () => {
    await assert.rejects(st.vis.pca(st.zeros([5])), /pca: expected samples of shape \[samples, \.\.\.features\]; received \[5\]/);
    await assert.rejects(st.vis.pca(st.zeros([1, 4])), /pca: needs at least 2 samples; received 1/);
    await assert.rejects(st.vis.pca(st.zeros([6, 3]), { components: 4 }), /components must be an integer in \[1, 3\].*received 4/);
    await assert.rejects(st.vis.pca(st.zeros([6, 3]), { dims: 2 } as never), /pca: unknown option 'dims'/);
  });
});

/** u u^T scaled, summed: a symmetric matrix with the given eigenpairs (u orthonormal). */
function fromPairs(n: number, values: number[], vectors: number[][]): Float64Array {
  const s = new Float64Array(n * n);
  values.forEach((l, k) => {
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] += l * vectors[k][i] * vectors[k][j];
  });
  return s;
}

describe('the eigen solver behind pca', () => {
  it('Jacobi rotations find every eigenpair of a 3 x 3 matrix worked by hand', () => {
    // [[2, 1, 0], [1, 2, 0], [0, 0, 5]]: eigenvalues 5, 3, 1 with vectors e3, (1, 1, 0)/√2, (1, -1, 0)/√2.
    const { values, vectors } = jacobiEigen(Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, 5]), 3);
    assertClose(values, [5, 3, 1], 1e-14, 1e-14);
    assertClose(Math.abs(vectors[0][2]), 1, 1e-14, 1e-14);
    assertClose(Math.abs(vectors[1][0] * vectors[1][1]), 0.5, 1e-14, 1e-14);
    assert.ok(vectors[2][0] * vectors[2][1] < 0);
  });

  it('subspace iteration on a 200 x 200 matrix of rank 2, and on one with a repeated leading eigenvalue', () => {
    const n = 200;
    const u = Array.from({ length: n }, (_, i) => (i % 2 ? 1 : -1) / Math.sqrt(n));
    const v = Array.from({ length: n }, (_, i) => (i < n / 2 ? 1 : -1) / Math.sqrt(n));
    const w = Array.from({ length: n }, (_, i) => (i % 4 < 2 ? 1 : -1) / Math.sqrt(n));
    const low = topEigenpairs(fromPairs(n, [5, 2], [u, v]), n, 3);
    assertClose(low.values, [5, 2, 0], 1e-9, 1e-9);
    assert.ok(low.iterations > 0, 'a 200 x 200 matrix goes through subspace iteration');
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((acc, x, i) => acc + x * b[i], 0);
    assertClose(Math.abs(dot(low.vectors[0], u)), 1, 1e-9, 1e-9);
    assertClose(Math.abs(dot(low.vectors[1], v)), 1, 1e-9, 1e-9);
    // 4, 4, 1 (plus a small full-rank part): the first two vectors span u and v in some rotation.
    const tie = fromPairs(n, [4, 4, 1], [u, v, w]);
    for (let i = 0; i < n; i++) tie[i * n + i] += 0.01;
    const r = topEigenpairs(tie, n, 3);
    assertClose(r.values, [4.01, 4.01, 1.01], 1e-9, 1e-9);
    for (const k of [0, 1]) assertClose(dot(r.vectors[k], u) ** 2 + dot(r.vectors[k], v) ** 2, 1, 1e-9, 1e-9);
  });
});
