import type { Tensor } from '../tensor/tensor.js';
import { add, mul, sigmoid, square, sub, tanh } from './elementwise.js';
import { gateBlocks } from './recurrent-cells.js';
import { hasKernel, runPrimitive } from './run.js';
import { concat, slice } from './shape-ops.js';

// The gradients of the fused recurrent cells (Note [Fused recurrent cells] in
// recurrent-cells.ts), for the VJP rules of lstmCell, gruCell and of their gradient primitives.
// First order: the lstmCellGrad / gruCellGrad kernel, or the same formulas as ops. Second order
// (the rules of lstmCellGrad and gruCellGrad): closed forms written with ops, so the tape can
// differentiate them once more. Notation per unit: σ' = σ(1 - σ), tanh' = 1 - tanh².

const dSigmoid = (s: Tensor) => mul(s, sub(1, s));
const dTanh = (t: Tensor) => sub(1, square(t));
/** x·a·b·..., left to right (numbers are constant factors). */
const prod = (x: Tensor, ...xs: (Tensor | number)[]): Tensor => xs.reduce<Tensor>((a, b) => mul(a, b), x);
const sum = (x: Tensor, ...xs: Tensor[]): Tensor => xs.reduce((a, b) => add(a, b), x);

/** The LSTM gates and tanh(c), recomputed from the cell's inputs. */
function lstmGates(z: Tensor, cPrev: Tensor) {
  const [zi, zf, zc, zo] = gateBlocks(z, 4);
  const i = sigmoid(zi),
    f = sigmoid(zf),
    g = tanh(zc),
    o = sigmoid(zo);
  const t = tanh(add(mul(f, cPrev), mul(i, g)));
  return { i, f, g, o, t };
}

/** d/dz and d/dcPrev of lstmCell, given the gradient [dh | dc] of its [h | c] output. */
export function lstmCellBackward(z: Tensor, cPrev: Tensor, dhc: Tensor): [Tensor, Tensor] {
  const [batch, u] = cPrev.shape;
  if (hasKernel('lstmCellGrad', z)) {
    const out = runPrimitive('lstmCellGrad', [z, cPrev, dhc], {}, [batch, 5 * u], z.dtype);
    return [slice(out, [0, 0], [batch, 4 * u]), slice(out, [0, 4 * u], [batch, u])];
  }
  const { i, f, g, o, t } = lstmGates(z, cPrev);
  const [dh, dcOwn] = gateBlocks(dhc, 2);
  const dc = add(dcOwn, prod(dh, o, dTanh(t)));
  const dz = concat([prod(dc, g, dSigmoid(i)), prod(dc, cPrev, dSigmoid(f)), prod(dc, i, dTanh(g)), prod(dh, t, dSigmoid(o))], 1);
  return [dz, mul(dc, f)];
}

/**
 * The VJP of lstmCellGrad(z, cPrev, [H | C]) = [dz | dcPrev] for an upstream [G1..G4 | G5].
 * With K = C + H·o·tanh'(c) (the gradient reaching c) and the outputs K·g·i', K·p·f', K·i·g',
 * H·t·o', K·f (p = cPrev), the pairing L = Σ G·output is K·Q + G4·H·t·o' where
 * Q = G1·g·i' + G2·p·f' + G3·i·g' + G5·f; each input's gradient is K ∂Q + Q ∂K plus the G4 term,
 * with c's dependence (dc/dz_i = g·i', dc/dz_f = p·f', dc/dz_c = i·g', dc/dp = f) collected in Lc.
 */
export function lstmCellGradVjp(z: Tensor, cPrev: Tensor, dhc: Tensor, upstream: Tensor): [Tensor, Tensor, Tensor] {
  const { i, f, g, o, t } = lstmGates(z, cPrev);
  const p = cPrev;
  const [H, C] = gateBlocks(dhc, 2);
  const [G1, G2, G3, G4, G5] = gateBlocks(upstream, 5);
  const i1 = dSigmoid(i),
    f1 = dSigmoid(f),
    o1 = dSigmoid(o),
    g1 = dTanh(g),
    t1 = dTanh(t);
  const K = add(C, prod(H, o, t1));
  const Q = sum(prod(G1, g, i1), prod(G2, p, f1), prod(G3, i, g1), mul(G5, f));
  // dL/dc through tanh(c): in K (d tanh'(c)/dc = -2 t tanh') and in the G4 term.
  const Lc = add(prod(Q, H, o, mul(t, t1), -2), prod(G4, H, o1, t1));
  const dQi = add(prod(G1, g, i1, sub(1, mul(i, 2))), prod(G3, g1, i1));
  const dQf = add(prod(G2, p, f1, sub(1, mul(f, 2))), mul(G5, f1));
  const dQc = add(prod(G1, g1, i1), prod(G3, i, g, g1, -2));
  const dzi = add(mul(K, dQi), prod(Lc, g, i1));
  const dzf = add(mul(K, dQf), prod(Lc, p, f1));
  const dzc = add(mul(K, dQc), prod(Lc, i, g1));
  const dzo = add(prod(Q, H, t1, o1), prod(G4, H, t, o1, sub(1, mul(o, 2))));
  const dp = add(prod(K, G2, f1), mul(Lc, f));
  const dH = add(prod(Q, o, t1), prod(G4, t, o1));
  return [concat([dzi, dzf, dzc, dzo], 1), dp, concat([dH, Q], 1)];
}

/** The GRU gates recomputed from the cell's inputs; hc is hz's h block. */
function gruGates(xz: Tensor, hz: Tensor) {
  const [xa, xb, xc] = gateBlocks(xz, 3);
  const [ha, hb, hc] = gateBlocks(hz, 3);
  const z = sigmoid(add(xa, ha)),
    r = sigmoid(add(xb, hb));
  const n = tanh(add(xc, mul(r, hc)));
  return { z, r, n, hc };
}

/** d/dxz, d/dhz and d/dhPrev of gruCell, given the gradient dh of its output. */
export function gruCellBackward(xz: Tensor, hz: Tensor, hPrev: Tensor, dh: Tensor): [Tensor, Tensor, Tensor] {
  const [batch, u] = hPrev.shape;
  if (hasKernel('gruCellGrad', xz)) {
    const out = runPrimitive('gruCellGrad', [xz, hz, hPrev, dh], {}, [batch, 7 * u], xz.dtype);
    return [slice(out, [0, 0], [batch, 3 * u]), slice(out, [0, 3 * u], [batch, 3 * u]), slice(out, [0, 6 * u], [batch, u])];
  }
  const { z, r, n, hc } = gruGates(xz, hz);
  const dz = prod(dh, sub(hPrev, n), dSigmoid(z));
  const dn = prod(dh, sub(1, z), dTanh(n));
  const dr = prod(dn, hc, dSigmoid(r));
  return [concat([dz, dr, dn], 1), concat([dz, dr, mul(dn, r)], 1), mul(dh, z)];
}

/**
 * The VJP of gruCellGrad(xz, hz, hPrev, D) = [dxz | dhz | dhPrev] for an upstream [G1..G7].
 * The z and r columns of dxz and dhz are equal, so they pair with A1 = G1 + G4 and A2 = G2 + G5;
 * with E = D·(1 - z)·n' (the gradient reaching n's input) and W = A2·hc·r' + G3 + G6·r,
 * L = A1·D·(hPrev - n)·z' + W·E + G7·D·z. Its partial derivatives by z, n (then through
 * n = tanh(xc + r·hc)), r and hc give the gradients below.
 */
export function gruCellGradVjp(xz: Tensor, hz: Tensor, hPrev: Tensor, D: Tensor, upstream: Tensor): [Tensor, Tensor, Tensor, Tensor] {
  const { z, r, n, hc } = gruGates(xz, hz);
  const [G1, G2, G3, G4, G5, G6, G7] = gateBlocks(upstream, 7);
  const A1 = add(G1, G4),
    A2 = add(G2, G5);
  const z1 = dSigmoid(z),
    r1 = dSigmoid(r),
    n1 = dTanh(n),
    notZ = sub(1, z);
  const gap = sub(hPrev, n);
  const E = prod(D, notZ, n1);
  const W = sum(prod(A2, hc, r1), G3, mul(G6, r));
  const dD = sum(prod(A1, gap, z1), prod(W, notZ, n1), mul(G7, z));
  const dhPrev = prod(A1, D, z1);
  const Lz = sum(prod(A1, D, gap, sub(1, mul(z, 2))), mul(prod(W, D, n1), -1), mul(G7, D));
  const Ln = sub(mul(prod(A1, D, z1), -1), prod(n, W, D, notZ, 2));
  const dsa = mul(Lz, z1),
    dsc = mul(Ln, n1);
  const dsb = mul(add(mul(E, add(prod(A2, hc, sub(1, mul(r, 2))), G6)), mul(dsc, hc)), r1);
  const dhc = add(prod(E, A2, r1), mul(dsc, r));
  return [concat([dsa, dsb, dsc], 1), concat([dsa, dsb, dhc], 1), dhPrev, dD];
}
