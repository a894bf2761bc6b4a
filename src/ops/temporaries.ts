import type { Tensor } from '../tensor/tensor.js';

// Note [Releasing an op's temporaries]
// An op built from other ops makes tensors its caller never sees: matmul reshapes its operands
// to [batch, m, k] and its product back. A reshape shares its input's storage, so the product's
// storage lives as long as any of the tensors around it, and an unreferenced tensor is released
// only when the garbage collector finalizes it. Until then the allocator cannot reuse the block,
// and the next call takes fresh memory (a 256x256 product spent as long in page faults as in
// arithmetic). An op therefore disposes its temporaries itself once it is done with them when
// its result is not on the tape (inference, noGrad, constants): a recorded result's nodes keep
// their inputs for the backward pass, including temporaries that need no gradient themselves.
// The op's inputs and result are never disposed; they can be the very same objects as a
// temporary when a reshape or cast had nothing to do.

/** Disposes each temporary now, unless the result is recorded or the temporary is one of `keep`. */
export function releaseTemporaries(result: Tensor, temporaries: readonly Tensor[], keep: readonly Tensor[]): void {
  if (result.requiresGrad) return;
  for (const t of temporaries) {
    if (t !== result && !keep.includes(t) && !t.isDisposed) t.dispose();
  }
}
