import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { isGradEnabled } from '../autograd/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { hasKernel, runPrimitive } from './run.js';
import { reshape, slice } from './shape-ops.js';

// Note [Whole-sequence LSTM]
// Even with fused cells (Note [Fused recurrent cells]) a layer stepping through time makes a few
// kernel calls and tape nodes per step, and the per-step matmuls are too small to use both
// cores well. Where the backend offers it (native: oneDNN's LSTM primitive), the optional
// primitive lstmSequence runs the whole layer in one call, and lstmSequenceGrad its whole
// backward pass in one more. The layer takes this path only for the plain case the primitive
// computes: tanh and sigmoid activations, no mask, no recurrent dropout, unroll false (input
// dropout and goBackwards are applied to the input beforehand); everything else steps through time.
//
// Operands: x [B, T, F] (batch-major, as the layer receives it), h0 and c0 [B, u], kernel
// [F, 4u], recurrentKernel [u, 4u], bias [4u], gates i, f, c, o as Keras. A primitive has one
// output, so lstmSequence returns one flat tensor [y (B·T·u) | cT (B·u)] (the last h is y's last
// step), and lstmSequenceGrad one flat [dx | dh0 | dc0 | dKernel | dRecurrentKernel | dBias].
// In training the forward pass also keeps oneDNN's workspace (the gates of every step), which
// the backward pass needs; it lives in the native buffer of the output, so it is freed with it.
//
// Second derivatives through the fused layer are not offered (PyTorch's cuDNN RNN has the same
// limit); lstmSequenceGrad's rule says so, and names the way around it.

export interface LstmSequenceResult {
  /** Every step's h, [B, T, u]. */
  sequence: Tensor;
  /** The last h and c, [B, u] each. */
  h: Tensor;
  c: Tensor;
}

/** Whether lstmSequence can run for this input on its backend (the native backend, float32). */
export function hasLstmSequence(x: Tensor): boolean {
  return x.dtype === 'float32' && hasKernel('lstmSequence', x);
}

/** The whole LSTM over time in one kernel; callers check hasLstmSequence first. */
export function lstmSequence(x: Tensor, h0: Tensor, c0: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor): LstmSequenceResult {
  if (x.rank !== 3) throw new ShapeError(`lstmSequence: x must be [batch, timesteps, features]; received ${fmtShape(x.shape)}`);
  const [batch, steps, features] = x.shape;
  const u = recurrentKernel.shape[0];
  const expect: [string, Tensor, number[]][] = [
    ['h0', h0, [batch, u]], ['c0', c0, [batch, u]], ['kernel', kernel, [features, 4 * u]],
    ['recurrentKernel', recurrentKernel, [u, 4 * u]], ['bias', bias, [4 * u]],
  ];
  for (const [name, t, shape] of expect) {
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`lstmSequence: ${name} must have shape ${fmtShape(shape)}; received ${fmtShape(t.shape)}`);
    }
  }
  const inputs = [x, h0, c0, kernel, recurrentKernel, bias];
  const training = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const ySize = batch * steps * u;
  const out = runPrimitive('lstmSequence', inputs, { training }, [ySize + batch * u], x.dtype);
  const sequence = reshape(slice(out, [0], [ySize]), [batch, steps, u]);
  return {
    sequence,
    h: reshape(slice(sequence, [0, steps - 1, 0], [batch, 1, u]), [batch, u]),
    c: reshape(slice(out, [ySize], [batch * u]), [batch, u]),
  };
}

/** lstmSequence's VJP: one lstmSequenceGrad call, cut into the six operands' gradients. */
export function lstmSequenceBackward(inputs: readonly Tensor[], output: Tensor, g: Tensor): Tensor[] {
  const total = inputs.reduce((n, t) => n + t.size, 0);
  const flat = runPrimitive('lstmSequenceGrad', [...inputs, output, g], {}, [total], g.dtype);
  let offset = 0;
  return inputs.map((t) => {
    const piece = reshape(slice(flat, [offset], [t.size]), t.shape);
    offset += t.size;
    return piece;
  });
}

export function lstmSequenceSecondOrder(): never {
  throw new ValueError(
    'lstm: second derivatives through the fused whole-sequence LSTM kernel are not supported; ' +
      'give the layer unroll: true to make it step through time with ops that can be differentiated again',
  );
}
