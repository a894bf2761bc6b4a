import type { Tensor } from '../tensor/tensor.js';

/**
 * Disposes every tensor the tape recorded on the way to `root` (root included; leaves such as
 * variables and inputs are kept). The trainer calls it after each step, so a step's activations
 * are freed at once instead of waiting for the garbage collector. Storage is reference-counted,
 * so a value that escaped through `assign` (an optimizer update, a moving average) survives.
 */
export function disposeGraph(root: Tensor): void {
  const stack = [root];
  const seen = new Set<Tensor>();
  while (stack.length) {
    const t = stack.pop()!;
    if (!t.node || seen.has(t)) continue;
    seen.add(t);
    stack.push(...t.node.inputs);
    t.dispose();
  }
}
