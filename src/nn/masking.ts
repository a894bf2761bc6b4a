import type { Tensor } from '../tensor/tensor.js';

// Note [Masks]
// As in Keras 3, a mask travels with the tensor it describes rather than through every call
// signature: an Embedding with maskZero (or a Masking layer) attaches a bool [batch, time] mask
// to its output; Layer.apply hands an input's mask to call() as `options.mask` and attaches
// computeMask()'s result to the output. Layers that keep the time axis pass it on
// (supportsMasking); recurrent and attention layers consume it. A WeakMap keeps the mask alive
// exactly as long as its tensor.
const masks = new WeakMap<Tensor, Tensor>();

export function getMask(t: Tensor): Tensor | null {
  return masks.get(t) ?? null;
}

export function setMask(t: Tensor, mask: Tensor | null | undefined): void {
  if (mask) masks.set(t, mask);
  else masks.delete(t);
}
