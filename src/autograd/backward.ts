import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { add, cast } from '../ops/elementwise.js';
import { stopGradient } from '../ops/shape-ops.js';
import { onesLike } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { withGradMode } from './tape.js';
import { VJP, type VjpRule } from './vjp.js';
import type { Primitive } from '../backend/primitives.js';

/** Tensors reachable from `root` through tape nodes, ordered so each comes after everything it feeds. */
function reverseTopological(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative post-order DFS: deep graphs (long RNN unrolls) must not overflow the stack.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, next] = top;
    const inputs = t.node?.inputs ?? [];
    if (next < inputs.length) {
      top[1]++;
      const child = inputs[next];
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

function checkSeed(op: string, root: Tensor, seed: Tensor | undefined): Tensor {
  if (!root.requiresGrad) {
    throw new ValueError(`${op}: the tensor does not require grad: no variable contributed to it (or it was computed inside noGrad)`);
  }
  if (seed === undefined) {
    if (root.size !== 1) {
      throw new ValueError(`${op}: a non-scalar output of shape ${fmtShape(root.shape)} needs a seed gradient of that shape, e.g. y.backward(st.onesLike(y))`);
    }
    return onesLike(root);
  }
  if (!shapesEqual(seed.shape, root.shape)) {
    throw new ShapeError(`${op}: the seed gradient must have the output's shape ${fmtShape(root.shape)}; received ${fmtShape(seed.shape)}`);
  }
  return cast(seed, root.dtype);
}

/**
 * Runs the chain rule from `root` back through the tape and returns the gradient of every tensor
 * on the way. With `createGraph` the rules run with recording on, so the gradients can be
 * differentiated again; otherwise they are plain values.
 */
export function backpropagate(root: Tensor, seed: Tensor | undefined, createGraph: boolean, op = 'backward'): Map<Tensor, Tensor> {
  const grads = new Map<Tensor, Tensor>();
  grads.set(root, checkSeed(op, root, seed));
  withGradMode(createGraph, () => {
    for (const t of reverseTopological(root)) {
      const g = grads.get(t);
      if (!g || !t.node) continue;
      const { primitive, inputs, attrs } = t.node;
      const rule = VJP[primitive] as VjpRule<Primitive>;
      const needs = inputs.map((input) => input.requiresGrad);
      const inputGrads = rule(g, { inputs, output: t, attrs: attrs as never, needs });
      inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!gi || !input.requiresGrad) return;
        const previous = grads.get(input);
        grads.set(input, previous ? add(previous, gi) : gi);
      });
    }
  });
  return grads;
}

export interface BackwardOptions {
  /** Record the gradient computation so it can be differentiated again (PyTorch's create_graph). */
  createGraph?: boolean;
}

/** Accumulates d root / d leaf into `leaf.grad` for every variable root depends on, as PyTorch does. */
export function backward(root: Tensor, seed?: Tensor, options: BackwardOptions = {}): void {
  const createGraph = options.createGraph ?? false;
  const grads = backpropagate(root, seed, createGraph);
  for (const [t, g] of grads) {
    if (t.node || !t.requiresGrad) continue;
    const value = createGraph ? g : stopGradient(g);
    t.grad = t.grad ? withGradMode(createGraph, () => add(t.grad as Tensor, value)) : value;
  }
}
