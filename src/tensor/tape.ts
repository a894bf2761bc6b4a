import type { Primitive, PrimitiveAttrs } from '../backend/primitives.js';
import { isFloat } from '../core/dtype.js';
import type { Tensor } from './tensor.js';

// Note [The tape]
// The tape is not a separate list: each result computed while recording keeps a node naming its
// primitive, inputs and attributes (PyTorch's dynamic graph). backward() walks these nodes in
// reverse topological order from the output. Recording happens only when grad mode is on and
// some input requires grad, so inference and optimizer updates build no graph.

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `f` with recording switched on or off, restoring the previous mode even on throw. */
export function withGradMode<T>(enabled: boolean, f: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return f();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Runs `f` without recording any operation on the tape (PyTorch's torch.no_grad) and returns its
 * result: tensors computed inside have no graph and do not require grad, so inference and hand
 * written weight updates cost no tape memory. Grad mode is restored afterwards, even if `f` throws.
 * @example
 * ```ts
 * const w = st.variable(st.ones([2]));
 * const y = st.noGrad(() => w.mul(2));
 * console.log(y.requiresGrad); // false
 * ```
 */
export function noGrad<T>(f: () => T): T {
  return withGradMode(false, f);
}

/** Attaches a tape node to `output` when recording applies; integer and bool results never get one. */
export function record<P extends Primitive>(output: Tensor, primitive: P, inputs: readonly Tensor[], attrs: PrimitiveAttrs[P]): void {
  if (!gradEnabled || !isFloat(output.dtype)) return;
  if (!inputs.some((t) => t.requiresGrad)) return;
  output.requiresGrad = true;
  output.node = { primitive, inputs, attrs };
}
