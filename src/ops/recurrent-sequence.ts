import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { isGradEnabled } from '../tensor/tape.js';
import type { RecurrentCell } from '../backend/primitives.js';
import type { Tensor } from '../tensor/tensor.js';
import { add } from './elementwise.js';
import { hasKernel, runPrimitive } from './run.js';
import { concat, reshape, slice } from './shape-ops.js';

// Note [Whole-sequence recurrent kernels]
// Even with fused cells (Note [Fused recurrent cells]) a layer stepping through time makes a few
// kernel calls and tape nodes per step, and the per-step matmuls are too small to use both
// cores well. Where the backend offers it (native: oneDNN's LSTM, linear-before-reset GRU and
// vanilla RNN primitives), the optional primitive rnnSequence runs a whole LSTM, GRU or
// SimpleRNN layer in one call, and rnnSequenceGrad its whole backward pass in one more. Layers
// take this path only for what the primitives compute: no recurrent dropout, unroll false,
// tanh and sigmoid activations (SimpleRNN: tanh or relu), and for the GRU resetAfter (Keras's
// default); input dropout and goBackwards are applied to the input beforehand, and padding
// masks by rearranging steps (Note [Masked sequences in one kernel] in
// nn/layers/masked-sequence.ts). Everything else steps through time.
//
// Operands: x [B, T, F] (batch-major, as the layer receives it), h0 [B, u], c0 [B, u] (LSTM only),
// kernel [F, g·u], recurrentKernel [u, g·u], bias [4u] ([u] for SimpleRNN, g = 1), Keras's gate
// orders (LSTM i, f, c, o; GRU z, r, h). The GRU's bias is oneDNN's four blocks: the input and recurrent biases summed
// for z and r, then the candidate's input and recurrent biases apart (the recurrent one is
// scaled by r); gruSequence builds it from Keras's [2, 3u] bias with ops, so its gradient
// flows back through those ops. A primitive has one output, so rnnSequence returns one flat
// tensor [y (B·T·u) | cT (B·u), LSTM only] (the last h is y's last step), and rnnSequenceGrad one
// flat [dx | dh0 | dc0 | dKernel | dRecurrentKernel | dBias]. In training the forward pass also
// keeps oneDNN's workspace (the gates of every step), which the backward pass needs; it lives
// in the native buffer of the output, so it is freed with it.
//
// Second derivatives through these kernels are not offered (PyTorch's cuDNN RNN has the same
// limit); rnnSequenceGrad's rule says so and names the way around it.

export interface SequenceResult {
  /** Every step's h, [B, T, u]. */
  sequence: Tensor;
  /** The final states, [B, u] each: [h, c] for an LSTM, [h] for a GRU. */
  states: Tensor[];
}

/** Whether the backend of x runs whole recurrent layers (the native backend, float32). */
export function hasSequenceKernel(x: Tensor): boolean {
  return x.dtype === 'float32' && hasKernel('rnnSequence', x);
}

/** A whole LSTM over time in one kernel; callers check hasSequenceKernel first. */
export function lstmSequence(x: Tensor, h0: Tensor, c0: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor): SequenceResult {
  return runSequence('lstm', x, [h0, c0], kernel, recurrentKernel, bias);
}

/** A whole GRU (resetAfter) over time in one kernel, with Keras's bias [2, 3u]. */
export function gruSequence(x: Tensor, h0: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor): SequenceResult {
  const u = recurrentKernel.shape[0];
  if (bias.rank !== 2 || bias.shape[0] !== 2 || bias.shape[1] !== 3 * u) {
    throw new ShapeError(`gruSequence: bias must have shape [2, ${3 * u}] (input and recurrent biases); received ${fmtShape(bias.shape)}`);
  }
  const input = reshape(slice(bias, [0, 0], [1, -1]), [3 * u]),
    recurrent = reshape(slice(bias, [1, 0], [1, -1]), [3 * u]);
  const zr = add(slice(input, [0], [2 * u]), slice(recurrent, [0], [2 * u]));
  const oneDnnBias = concat([zr, slice(input, [2 * u], [u]), slice(recurrent, [2 * u], [u])], 0);
  return runSequence('gru', x, [h0], kernel, recurrentKernel, oneDnnBias);
}

/** A whole SimpleRNN over time in one kernel: h_t = activation(x_t W + h_{t-1} U + b). */
export function simpleRnnSequence(
  x: Tensor,
  h0: Tensor,
  kernel: Tensor,
  recurrentKernel: Tensor,
  bias: Tensor,
  activation: 'tanh' | 'relu',
): SequenceResult {
  return runSequence(activation === 'tanh' ? 'rnnTanh' : 'rnnRelu', x, [h0], kernel, recurrentKernel, bias);
}

function runSequence(cell: RecurrentCell, x: Tensor, states: Tensor[], kernel: Tensor, recurrentKernel: Tensor, bias: Tensor): SequenceResult {
  const op = cell === 'lstm' || cell === 'gru' ? `${cell}Sequence` : 'simpleRnnSequence';
  if (x.rank !== 3) throw new ShapeError(`${op}: x must be [batch, timesteps, features]; received ${fmtShape(x.shape)}`);
  const [batch, steps, features] = x.shape;
  const u = recurrentKernel.shape[0];
  const g = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const expect: [string, Tensor, number[]][] = [
    ...states.map((s, i): [string, Tensor, number[]] => [['h0', 'c0'][i], s, [batch, u]]),
    ['kernel', kernel, [features, g * u]],
    ['recurrentKernel', recurrentKernel, [u, g * u]],
    ['bias', bias, [(g === 1 ? 1 : 4) * u]],
  ];
  for (const [name, t, shape] of expect) {
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`${op}: ${name} must have shape ${fmtShape(shape)}; received ${fmtShape(t.shape)}`);
    }
  }
  const inputs = [x, ...states, kernel, recurrentKernel, bias];
  const training = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const ySize = batch * steps * u;
  const out = runPrimitive('rnnSequence', inputs, { cell, training }, [ySize + (cell === 'lstm' ? batch * u : 0)], x.dtype);
  const sequence = reshape(cell === 'lstm' ? slice(out, [0], [ySize]) : out, [batch, steps, u]);
  const h = reshape(slice(sequence, [0, steps - 1, 0], [batch, 1, u]), [batch, u]);
  return { sequence, states: cell === 'lstm' ? [h, reshape(slice(out, [ySize], [batch * u]), [batch, u])] : [h] };
}

/** rnnSequence's VJP: one rnnSequenceGrad call, cut into the operands' gradients. */
export function rnnSequenceBackward(cell: RecurrentCell, inputs: readonly Tensor[], output: Tensor, g: Tensor): Tensor[] {
  const total = inputs.reduce((n, t) => n + t.size, 0);
  const flat = runPrimitive('rnnSequenceGrad', [...inputs, output, g], { cell }, [total], g.dtype);
  let offset = 0;
  return inputs.map((t) => {
    const piece = reshape(slice(flat, [offset], [t.size]), t.shape);
    offset += t.size;
    return piece;
  });
}

export function rnnSequenceSecondOrder(cell: RecurrentCell): never {
  throw new ValueError(
    `${cell === 'lstm' || cell === 'gru' ? cell : 'simpleRNN'}: second derivatives through the fused whole-sequence kernel are not supported; ` +
      'give the layer unroll: true to make it step through time with ops that can be differentiated again',
  );
}
