import { typedArrayFor, type TypedArray } from '../../core/dtype.js';
import type { Kernel } from '../backend.js';

// The pointwise part of one LSTM or GRU step, per unit, in float64 (Note [Fused recurrent
// cells] in ops/recurrent-cells.ts has the formulas and the output layouts). Every row of B
// is independent; within a row, gate k of unit j sits at column k·u + j.

/** The same stable logistic as the sigmoid primitive: never exp of a large positive number. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const values = (t: { data: object }) => t.data as TypedArray;

/** z [B, 4u], cPrev [B, u] → [B, 2u]: h = o·tanh(c), c = f·cPrev + i·g. */
export const lstmCellKernel: Kernel<'lstmCell'> = ([zt, ct], _attrs, out) => {
  const z = values(zt),
    cp = values(ct);
  const [batch, u] = ct.shape;
  const y = typedArrayFor(out.dtype, batch * 2 * u);
  for (let b = 0; b < batch; b++) {
    const zr = b * 4 * u,
      yr = b * 2 * u;
    for (let j = 0; j < u; j++) {
      const i = sigmoid(z[zr + j]),
        f = sigmoid(z[zr + u + j]);
      const g = Math.tanh(z[zr + 2 * u + j]),
        o = sigmoid(z[zr + 3 * u + j]);
      const c = f * cp[b * u + j] + i * g;
      y[yr + j] = o * Math.tanh(c);
      y[yr + u + j] = c;
    }
  }
  return y;
};

/** z, cPrev, g = [dh | dc] → [dz (4u) | dcPrev (u)], recomputing the gates. */
export const lstmCellGradKernel: Kernel<'lstmCellGrad'> = ([zt, ct, gt], _attrs, out) => {
  const z = values(zt),
    cp = values(ct),
    g = values(gt);
  const [batch, u] = ct.shape;
  const y = typedArrayFor(out.dtype, batch * 5 * u);
  for (let b = 0; b < batch; b++) {
    const zr = b * 4 * u,
      gr = b * 2 * u,
      yr = b * 5 * u;
    for (let j = 0; j < u; j++) {
      const i = sigmoid(z[zr + j]),
        f = sigmoid(z[zr + u + j]);
      const gg = Math.tanh(z[zr + 2 * u + j]),
        o = sigmoid(z[zr + 3 * u + j]);
      const p = cp[b * u + j];
      const t = Math.tanh(f * p + i * gg);
      const dh = g[gr + j];
      // The gradient reaching c: the one from c's own use plus the one through h = o·tanh(c).
      const dc = g[gr + u + j] + dh * o * (1 - t * t);
      y[yr + j] = dc * gg * i * (1 - i);
      y[yr + u + j] = dc * p * f * (1 - f);
      y[yr + 2 * u + j] = dc * i * (1 - gg * gg);
      y[yr + 3 * u + j] = dh * t * o * (1 - o);
      y[yr + 4 * u + j] = dc * f;
    }
  }
  return y;
};

/** xz, hz [B, 3u], hPrev [B, u] → h = z·hPrev + (1 - z)·hh, hh = tanh(xz_h + r·hz_h). */
export const gruCellKernel: Kernel<'gruCell'> = ([xt, ht, pt], _attrs, out) => {
  const xz = values(xt),
    hz = values(ht),
    hp = values(pt);
  const [batch, u] = pt.shape;
  const y = typedArrayFor(out.dtype, batch * u);
  for (let b = 0; b < batch; b++) {
    const r3 = b * 3 * u;
    for (let j = 0; j < u; j++) {
      const z = sigmoid(xz[r3 + j] + hz[r3 + j]);
      const r = sigmoid(xz[r3 + u + j] + hz[r3 + u + j]);
      const hh = Math.tanh(xz[r3 + 2 * u + j] + r * hz[r3 + 2 * u + j]);
      y[b * u + j] = z * hp[b * u + j] + (1 - z) * hh;
    }
  }
  return y;
};

/** xz, hz, hPrev, dh [B, u] → [dxz (3u) | dhz (3u) | dhPrev (u)], recomputing the gates. */
export const gruCellGradKernel: Kernel<'gruCellGrad'> = ([xt, ht, pt, gt], _attrs, out) => {
  const xz = values(xt),
    hz = values(ht),
    hp = values(pt),
    dy = values(gt);
  const [batch, u] = pt.shape;
  const y = typedArrayFor(out.dtype, batch * 7 * u);
  for (let b = 0; b < batch; b++) {
    const r3 = b * 3 * u,
      yr = b * 7 * u;
    for (let j = 0; j < u; j++) {
      const z = sigmoid(xz[r3 + j] + hz[r3 + j]);
      const r = sigmoid(xz[r3 + u + j] + hz[r3 + u + j]);
      const hzh = hz[r3 + 2 * u + j];
      const hh = Math.tanh(xz[r3 + 2 * u + j] + r * hzh);
      const d = dy[b * u + j];
      const dz = d * (hp[b * u + j] - hh) * z * (1 - z);
      const dn = d * (1 - z) * (1 - hh * hh);
      const dr = dn * hzh * r * (1 - r);
      y[yr + j] = dz;
      y[yr + u + j] = dr;
      y[yr + 2 * u + j] = dn;
      y[yr + 3 * u + j] = dz;
      y[yr + 4 * u + j] = dr;
      y[yr + 5 * u + j] = dn * r;
      y[yr + 6 * u + j] = d * z;
    }
  }
  return y;
};
