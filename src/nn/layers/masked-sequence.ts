import { ShapeError, fmtShape } from '../../core/errors.js';
import { mul } from '../../ops/elementwise.js';
import { gather, reshape } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';

// Note [Masked sequences in one kernel]
// A whole-sequence kernel (Note [Whole-sequence recurrent kernels]) knows nothing of masks, but
// padded batches mask in a simple way: in each row the real steps form one run, after the
// padding ('pre', Keras's pad_sequences default) or before it ('post'). Keras's rules for a
// masked step, states kept and the previous output repeated (0 before any real step, or always
// 0 with zeroOutputForMask), then amount to running each row over its run alone:
//   1. each row is rotated so that its run comes first (one gather of the input);
//   2. the kernel runs over all T steps; a row's outputs at its first L steps are exactly those
//      of its run, and what it computes past the run is never read, so gets no gradient;
//   3. outputs go back to their time steps (one gather): step start + s gets output s, steps
//      after the run repeat output L - 1, steps before it are 0; the last output and the h state
//      are output L - 1.
// An LSTM's c state after the run is not among the kernel's outputs, so an LSTM that must return
// or keep its states (returnState, stateful) steps through time when some row is padded, as do
// masks whose real steps are not one run, and rows with no real step at all.

/** Where each row's real steps are, in processing order: rows of [start, start + length). */
export interface MaskRuns {
  start: Int32Array;
  length: Int32Array;
  /** Every step of every row is real: the kernel's results need no rearranging. */
  full: boolean;
}

/**
 * The run of real steps of each row of a [batch, steps] mask, read in processing order (reversed
 * for goBackwards), or null when some row's real steps are not one non-empty run.
 */
export function maskRuns(op: string, mask: Tensor, batch: number, steps: number, reversed: boolean): MaskRuns | null {
  if (mask.rank !== 2 || mask.shape[0] !== batch || mask.shape[1] !== steps) {
    throw new ShapeError(`${op}: the mask must have shape [${batch}, ${steps}] (batch, timesteps); received ${fmtShape(mask.shape)}`);
  }
  const values = mask.dataSync();
  const start = new Int32Array(batch),
    length = new Int32Array(batch);
  let full = true;
  for (let b = 0; b < batch; b++) {
    let first = -1,
      last = -1,
      count = 0;
    for (let k = 0; k < steps; k++) {
      const t = reversed ? steps - 1 - k : k;
      if (values[b * steps + t] === 0) continue;
      if (first < 0) first = k;
      last = k;
      count++;
    }
    if (count === 0 || last - first + 1 !== count) return null;
    start[b] = first;
    length[b] = count;
    if (count !== steps) full = false;
  }
  return { start, length, full };
}

/** x [B, T, F] with each row rotated left by its run's start, so that every run begins at step 0. */
export function runsFirst(x: Tensor, runs: MaskRuns): Tensor {
  const [batch, steps, features] = x.shape;
  const index = new Int32Array(batch * steps);
  for (let b = 0; b < batch; b++) for (let s = 0; s < steps; s++) index[b * steps + s] = b * steps + ((s + runs.start[b]) % steps);
  return reshape(gather(reshape(x, [batch * steps, features]), tensor(index, [batch * steps], 'int32'), 0), [batch, steps, features]);
}

/**
 * The kernel's outputs y [B, T, u] (runs first) back at their time steps with Keras's outputs for
 * masked steps, and each row's last real output (the h state).
 */
export function runsInPlace(y: Tensor, runs: MaskRuns, zeroOutputForMask: boolean): { sequence: Tensor; last: Tensor } {
  const [batch, steps, units] = y.shape;
  const index = new Int32Array(batch * steps),
    keep = new Float32Array(batch * steps),
    lastIndex = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const start = runs.start[b],
      length = runs.length[b];
    lastIndex[b] = b * steps + length - 1;
    // Before the run: output 0 (index and weight stay 0); in it: its own output; after it: the
    // last one repeated, or 0 with zeroOutputForMask.
    for (let t = start; t < steps; t++) {
      const inRun = t < start + length;
      index[b * steps + t] = inRun ? b * steps + (t - start) : lastIndex[b];
      keep[b * steps + t] = inRun || !zeroOutputForMask ? 1 : 0;
    }
  }
  const flat = reshape(y, [batch * steps, units]);
  const placed = gather(flat, tensor(index, [batch * steps], 'int32'), 0);
  const weights = tensor(keep, [batch * steps, 1], y.dtype);
  return {
    sequence: reshape(mul(placed, weights), [batch, steps, units]),
    last: gather(flat, tensor(lastIndex, [batch], 'int32'), 0),
  };
}
