import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { shapesEqual } from '../core/shape.js';
import { add, cast } from '../ops/elementwise.js';
import { stopGradient } from '../ops/shape-ops.js';
import { onesLike } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { withGradMode } from '../tensor/tape.js';
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
      throw new ValueError(
        `${op}: a non-scalar output of shape ${fmtShape(root.shape)} needs a seed gradient of that shape, e.g. y.backward(st.onesLike(y))`,
      );
    }
    return onesLike(root);
  }
  if (!shapesEqual(seed.shape, root.shape)) {
    throw new ShapeError(`${op}: the seed gradient must have the output's shape ${fmtShape(root.shape)}; received ${fmtShape(seed.shape)}`);
  }
  return cast(seed, root.dtype);
}

/**
 * Note [Releasing gradients early]
 * Without createGraph, the gradient of an intermediate tensor is dead once its node's rule has
 * run: nothing outside backward() can see it. Releasing it at once (dispose) returns its
 * storage to the backend while the rest of the pass runs, instead of leaving a network's worth
 * of activation-sized buffers to the garbage collector. A gradient tensor can be held by
 * several entries (a rule may pass g through unchanged), so it is released only when no entry
 * holds it; the caller's seed and the gradients the caller asked for are never released.
 */
class GradientTable {
  readonly grads = new Map<Tensor, Tensor>();
  private readonly holders = new Map<Tensor, number>();

  constructor(
    private readonly release: boolean,
    private readonly protectedGrad: Tensor,
  ) {}

  get(t: Tensor): Tensor | undefined {
    return this.grads.get(t);
  }

  /** Adds gi to t's gradient. */
  accumulate(t: Tensor, gi: Tensor): void {
    const previous = this.grads.get(t);
    if (!previous) {
      this.set(t, gi);
      return;
    }
    this.set(t, add(previous, gi));
    this.discardIfFree(gi);
  }

  /** Drops t's entry (its gradient has been propagated and nobody asked for it). */
  forget(t: Tensor): void {
    const g = this.grads.get(t);
    if (!g) return;
    this.grads.delete(t);
    this.unhold(g);
  }

  private set(t: Tensor, g: Tensor): void {
    const previous = this.grads.get(t);
    this.grads.set(t, g);
    this.holders.set(g, (this.holders.get(g) ?? 0) + 1);
    if (previous) this.unhold(previous);
  }

  private unhold(g: Tensor): void {
    const n = (this.holders.get(g) ?? 1) - 1;
    if (n > 0) return void this.holders.set(g, n);
    this.holders.delete(g);
    this.discardIfFree(g);
  }

  private discardIfFree(g: Tensor): void {
    if (this.release && !this.holders.has(g) && g !== this.protectedGrad) g.dispose();
  }
}

/**
 * Runs the chain rule from `root` back through the tape and returns the gradients of the
 * tensors `wanted` selects (by default the leaves). With `createGraph` the rules run with
 * recording on, so the gradients can be differentiated again; otherwise they are plain values
 * and every other gradient is released as soon as it has been used. `onFinal` hears of each
 * wanted leaf's gradient as soon as nothing more will be added to it.
 */
export function backpropagate(
  root: Tensor,
  seed: Tensor | undefined,
  createGraph: boolean,
  op = 'backward',
  wanted: (t: Tensor) => boolean = (t) => !t.node,
  beforeRules?: (order: readonly Tensor[]) => void,
  onFinal?: (t: Tensor, grad: Tensor) => void,
): Map<Tensor, Tensor> {
  const seedGrad = checkSeed(op, root, seed);
  const order = reverseTopological(root);
  beforeRules?.(order);
  const table = new GradientTable(!createGraph, seed ?? seedGrad);
  table.accumulate(root, seedGrad);
  withGradMode(createGraph, () => {
    for (const t of order) {
      const g = table.get(t);
      // Everything t feeds comes before it in `order`: a leaf's gradient is final when the loop
      // reaches it (distributed training starts averaging it then, Note [Gradient buckets]).
      if (g && !t.node && onFinal && wanted(t)) onFinal(t, g);
      if (!g || !t.node) continue;
      const { primitive, inputs, attrs } = t.node;
      const rule = VJP[primitive] as VjpRule<Primitive>;
      const needs = inputs.map((input) => input.requiresGrad);
      const inputGrads = rule(g, { inputs, output: t, attrs: attrs as never, needs, wanted });
      inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (gi && input.requiresGrad) table.accumulate(input, gi);
      });
      if (!wanted(t)) table.forget(t);
    }
  });
  for (const t of [...table.grads.keys()]) if (!wanted(t)) table.forget(t);
  // Every gradient computation (backward, grad, minimize, fit) ends here: the backend may collect
  // the dead tensors of the steps before (Note [Collecting dead tensors between steps]).
  root.backend.afterBackward?.();
  return table.grads;
}

/** Options of `backward()`. */
export interface BackwardOptions {
  /** Record the gradient computation so it can be differentiated again (PyTorch's create_graph). */
  createGraph?: boolean;
  /**
   * Keep the graph usable by another backward() (PyTorch's retain_graph). Defaults to createGraph.
   * Without it, a second backward() through the same nodes is refused (Note [One backward per graph]).
   */
  retainGraph?: boolean;
}

const BACKWARD_KEYS = ['createGraph', 'retainGraph'];

// Note [One backward per graph]
// backward() adds each gradient to `.grad`. Run twice over one graph, it adds the same
// gradients again: the variables' .grad doubles without a word, and an optimizer step then
// takes a step twice as long. So a backward() that was not asked to keep its graph marks every
// node it went through as released, and a later backward() that reaches one of them is refused
// before any rule runs, naming the way out: compute the output again (each forward pass records
// new nodes, so loss = f(w); loss.backward(); loss = f(w); loss.backward() accumulates as in
// PyTorch), or pass {retainGraph: true} to the backward() calls that should leave the graph
// usable. PyTorch refuses the second pass too, because it frees the graph's saved tensors; Strata
// frees nothing here (the tape holds its tensors until they are collected), so the mark is only
// a mark. Only backward() marks and checks: st.grad, st.valueAndGrad, fit and the optimizers'
// minimize use the gradients they compute instead of adding them to .grad, and each runs its
// own forward pass.
// Leaves have no node, so x.backward() on a variable itself adds 1 each time, as in PyTorch.
const released = new WeakSet<object>();

function refuseReleased(order: readonly Tensor[]): void {
  for (const t of order) {
    if (t.node && released.has(t.node)) {
      throw new ValueError(
        `backward: the graph behind this tensor was already used by a backward() call that did not keep it (running it again would add the same gradients to .grad a second time); ` +
          `compute the output again with a new forward pass, or pass {retainGraph: true} to the earlier backward() to run it more than once`,
      );
    }
  }
}

function isOptions(x: unknown): x is BackwardOptions {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype;
}

/**
 * Accumulates d root / d leaf into `leaf.grad` for every variable root depends on, as PyTorch
 * does (`root.backward()` is the same call). Called as backward(root), backward(root, seed),
 * backward(root, seed, options) or, for a scalar root, backward(root, options) with a plain
 * options object. A non-scalar root needs `seed`, the gradient of some scalar with respect to
 * root (of root's shape).
 *
 * Gradients add up in `.grad` across calls; clear them with `t.zeroGrad()`. A graph runs
 * backward once: a second backward() through the same nodes is a ValueError unless the first
 * passed `{retainGraph: true}` (or `createGraph`); compute the output again instead.
 * @throws ValueError for a missing or non-tensor seed, a graph already used by backward(), or an
 * unknown option; ShapeError for a seed of another shape.
 * @example
 * ```ts
 * const w = st.variable(st.tensor([1, 2, 3]));
 * const loss = w.square().sum();
 * st.backward(loss);               // or loss.backward()
 * console.log(await w.grad?.array()); // [2, 4, 6]
 * ```
 */
export function backward(root: Tensor, seed?: Tensor | BackwardOptions, options?: BackwardOptions): void {
  if (options === undefined && isOptions(seed)) [seed, options] = [undefined, seed];
  if (seed !== undefined && !(seed instanceof Tensor)) {
    throw new ValueError(
      `backward: the seed gradient must be a Tensor of the output's shape ${fmtShape(root.shape)} (or leave it out for a scalar output); received ${fmtValue(seed)}`,
    );
  }
  checkKeys('backward', options, BACKWARD_KEYS);
  const createGraph = options?.createGraph ?? false;
  const retainGraph = options?.retainGraph ?? createGraph;
  for (const [name, value] of [
    ['createGraph', createGraph],
    ['retainGraph', retainGraph],
  ] as const) {
    if (typeof value !== 'boolean') throw new ValueError(`backward: ${name} must be true or false; received ${fmtValue(value)}`);
  }
  let order: readonly Tensor[] = [];
  const grads = backpropagate(root, seed, createGraph, 'backward', undefined, (o) => {
    refuseReleased(o);
    order = o;
  });
  for (const [t, g] of grads) {
    const value = createGraph ? g : stopGradient(g);
    t.grad = t.grad ? withGradMode(createGraph, () => add(t.grad as Tensor, value)) : value;
  }
  if (!retainGraph) for (const t of order) if (t.node) released.add(t.node);
}
