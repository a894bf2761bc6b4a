// nn.LSTM and nn.GRU (one layer, one direction) as Strata's LSTM and GRU. PyTorch stores
// weight_ih_l0 [gates·H, in] and weight_hh_l0 [gates·H, H] with the gates stacked along rows;
// Keras stores kernel [in, gates·H] and recurrent_kernel [H, gates·H] along columns.
// - LSTM: both order the gates i, f, g(c), o, so the kernels are transposes. PyTorch adds two
//   biases (bias_ih_l0 + bias_hh_l0) where Keras has one: loading sums them, saving writes the
//   bias as bias_ih_l0 and zeros as bias_hh_l0 (the same function).
// - GRU: PyTorch orders r, z, n; Keras z, r, h (the first two swapped). PyTorch's candidate is
//   tanh(W_in x + b_in + r * (W_hn h + b_hn)), which is Keras's resetAfter form, whose bias
//   [2, 3H] holds the input bias and the recurrent bias as rows; a GRU with resetAfter false
//   has no PyTorch counterpart (layouts.ts refuses it).
import { add } from '../../ops/elementwise.js';
import { concat, reshape, slice, transpose } from '../../ops/shape-ops.js';
import { zerosLike } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type TorchParam, single } from './param.js';

/** Swaps the first two gate blocks (of `units` each) along `axis`: PyTorch's r, z to Keras's z, r and back. */
function swapRz(t: Tensor, axis: number, units: number): Tensor {
  const begin = t.shape.map(() => 0);
  const size = [...t.shape];
  const part = (gate: number, count: number) => {
    const b = begin.slice();
    const s = size.slice();
    b[axis] = gate * units;
    s[axis] = count * units;
    return slice(t, b, s);
  };
  return concat([part(1, 1), part(0, 1), part(2, 1)], axis);
}

/** A kernel: PyTorch's [gates·H, n] transposed to [n, gates·H], GRU's gates reordered. */
function kernel(torch: string, strata: string, gru: boolean): TorchParam {
  const regate = (t: Tensor) => (gru ? swapRz(t, 0, t.shape[0] / 3) : t);
  return single(
    torch,
    strata,
    ([n, width]) => [width, n],
    (t) => transpose(regate(t), [1, 0]),
    (t) => regate(transpose(t, [1, 0])),
  );
}

const lstmBias: TorchParam = {
  torch: ['bias_ih_l0', 'bias_hh_l0'],
  strata: 'bias',
  torchShapes: ([width]) => [[width], [width]],
  toStrata: ([ih, hh]) => add(ih, hh),
  toTorch: (t) => [t, zerosLike(t)],
};

const gruBias: TorchParam = {
  torch: ['bias_ih_l0', 'bias_hh_l0'],
  strata: 'bias',
  torchShapes: ([, width]) => [[width], [width]],
  toStrata: (ts) =>
    concat(
      ts.map((t) => reshape(swapRz(t, 0, t.shape[0] / 3), [1, t.shape[0]])),
      0,
    ),
  toTorch: (t) => {
    const width = t.shape[1];
    return [0, 1].map((row) => swapRz(reshape(slice(t, [row, 0], [1, width]), [width]), 0, width / 3));
  },
};

/** The rules layouts.ts adds to its table, by Strata class name. */
export const RECURRENT_RULES: Readonly<Record<string, readonly TorchParam[]>> = {
  LSTM: [kernel('weight_ih_l0', 'kernel', false), kernel('weight_hh_l0', 'recurrent_kernel', false), lstmBias],
  GRU: [kernel('weight_ih_l0', 'kernel', true), kernel('weight_hh_l0', 'recurrent_kernel', true), gruBias],
};
