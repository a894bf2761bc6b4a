import { promoteTypes } from '../core/dtype.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, mul, sigmoid, sub, tanh } from './elementwise.js';
import { asTensor, requireFloat, type TensorInput } from './operand.js';
import { hasKernel, runPrimitive } from './run.js';
import { slice, split } from './shape-ops.js';

// Note [Fused recurrent cells]
// An LSTM or GRU step is a matmul followed by a dozen pointwise ops on [B, u] blocks, each a
// kernel call and a tape node; at the sizes recurrent layers run (B = 64, u = 128) the calls,
// not the arithmetic, set the time. The optional primitives lstmCell and gruCell do the pointwise
// part of one step in one pass, and lstmCellGrad and gruCellGrad its gradient in one more (they
// recompute the gates from the cell's inputs instead of saving them: a few exps per unit are
// cheaper than more tensors). Formulas, Keras's gate orders and tanh/sigmoid activations:
//
//   LSTM, z = x W + h U + b = [z_i | z_f | z_c | z_o]:
//     i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh(z_c);  c = f·cPrev + i·g;  h = o·tanh(c)
//   GRU (reset after the recurrent matmul), xz = x W + b_in, hz = h U + b_rec, blocks z, r, h:
//     z = σ(xz_z + hz_z);  r = σ(xz_r + hz_r);  hh = tanh(xz_h + r·hz_h);  h = z·hPrev + (1 - z)·hh
//
// A primitive has one output, so results that belong together are laid side by side along the
// last axis and sliced apart here: lstmCell gives [h | c] ([B, 2u]), lstmCellGrad [dz | dcPrev]
// ([B, 5u]), gruCellGrad [dxz | dhz | dhPrev] ([B, 7u]). The alternatives were worse: two
// primitives per step (h and c) would recompute the gates or save them, and a stacked [2, B, u]
// output needs the same slices. Conveniently, the gradient of [h | c] arrives as one [B, 2u]
// tensor, which is exactly lstmCellGrad's input. The slices are strided copies of [B, u].
//
// Without the kernels the composites below run: the very ops the layers used before, and the
// oracle the kernels are tested against. Second derivatives go through the gradient
// primitives' own VJP rules (ops/recurrent-cell-grads.ts), written with ops.

/** Checks that a cell operand is [batch, gates·units]. */
function gateWidth(op: string, name: string, t: Tensor, gates: number, batch: number, units: number): void {
  if (t.rank !== 2 || t.shape[0] !== batch || t.shape[1] !== gates * units) {
    throw new ShapeError(
      `${op}: ${name} must have shape [${batch}, ${gates * units}] (batch, ${gates} gates × ${units} units); received ${fmtShape(t.shape)}`,
    );
  }
}

/** The state operand fixes batch and units; every operand is cast to the common float dtype. */
function operands(op: string, named: [string, TensorInput][], stateIndex: number, gates: number[]): Tensor[] {
  const ts = named.map(([name, x]) => asTensor(op, name, x));
  ts.forEach((t) => requireFloat(op, t));
  const state = ts[stateIndex];
  if (state.rank !== 2) {
    throw new ShapeError(`${op}: ${named[stateIndex][0]} must have shape [batch, units]; received ${fmtShape(state.shape)}`);
  }
  const [batch, units] = state.shape;
  ts.forEach((t, i) => gateWidth(op, named[i][0], t, gates[i], batch, units));
  const dtype = ts.map((t) => t.dtype).reduce(promoteTypes);
  return ts.map((t) => cast(t, dtype));
}

/** The k blocks [B, u] of a [B, k·u] tensor. */
export const gateBlocks = (x: Tensor, k: number): Tensor[] => (k === 1 ? [x] : split(x, k, 1));

/**
 * One LSTM step's pointwise part with tanh and sigmoid: z [B, 4u] (gates i, f, c, o, as
 * Keras), cPrev [B, u] → [h, c], each [B, u]. One kernel where the backend has lstmCell.
 */
export function lstmCell(z: TensorInput, cPrev: TensorInput): [Tensor, Tensor] {
  const [tz, tc] = operands(
    'lstmCell',
    [
      ['z', z],
      ['cPrev', cPrev],
    ],
    1,
    [4, 1],
  );
  if (!hasKernel('lstmCell', tz)) return lstmCellComposite(tz, tc);
  const [batch, u] = tc.shape;
  const hc = runPrimitive('lstmCell', [tz, tc], {}, [batch, 2 * u], tz.dtype);
  return [slice(hc, [0, 0], [batch, u]), slice(hc, [0, u], [batch, u])];
}

/** The LSTM step as separate ops: the fallback and the oracle. */
export function lstmCellComposite(z: Tensor, cPrev: Tensor): [Tensor, Tensor] {
  const [batch, width] = z.shape;
  const u = width / 4;
  // One sigmoid over all four blocks (the c block's value is unused): fewer, larger ops.
  const gates = sigmoid(z);
  const [i, f, o] = [0, 1, 3].map((k) => slice(gates, [0, k * u], [batch, u]));
  const c = add(mul(f, cPrev), mul(i, tanh(slice(z, [0, 2 * u], [batch, u]))));
  return [mul(o, tanh(c)), c];
}

/**
 * One GRU step (resetAfter form) with tanh and sigmoid: xz = x W + b_in [B, 3u], hz = h U + b_rec
 * [B, 3u] (gates z, r, h, as Keras), hPrev [B, u] → h [B, u]. One kernel where the backend has gruCell.
 */
export function gruCell(xz: TensorInput, hz: TensorInput, hPrev: TensorInput): Tensor {
  const [tx, th, tp] = operands(
    'gruCell',
    [
      ['xz', xz],
      ['hz', hz],
      ['hPrev', hPrev],
    ],
    2,
    [3, 3, 1],
  );
  if (!hasKernel('gruCell', tx)) return gruCellComposite(tx, th, tp);
  return runPrimitive('gruCell', [tx, th, tp], {}, tp.shape, tx.dtype);
}

/** The GRU step as separate ops: the fallback and the oracle. */
export function gruCellComposite(xz: Tensor, hz: Tensor, hPrev: Tensor): Tensor {
  const [batch, u] = hPrev.shape;
  const [z, r] = split(sigmoid(slice(add(xz, hz), [0, 0], [batch, 2 * u])), 2, 1);
  const hh = tanh(add(slice(xz, [0, 2 * u], [batch, u]), mul(r, slice(hz, [0, 2 * u], [batch, u]))));
  // z·hPrev + (1 - z)·hh, as hh + z·(hPrev - hh): one op fewer.
  return add(hh, mul(z, sub(hPrev, hh)));
}
