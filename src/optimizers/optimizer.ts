import type { FusedUpdate } from '../backend/backend.js';
import { backpropagate } from '../autograd/backward.js';
import { noGrad } from '../tensor/tape.js';
import { isFloat } from '../core/dtype.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { shapesEqual } from '../core/shape.js';
import { add, cast, clip, div, minimum, mul, sqrt, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduction.js';
import { full, tensor, zerosLike } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { resolveLearningRate, type LearningRate } from './schedules.js';

/** Options every optimizer takes (Keras's names in camelCase). */
export interface CommonOptions {
  /**
   * The step size: a number, a schedule or a function of the step. Default: the optimizer's own
   * (SGD 0.01, the others 0.001).
   */
  learningRate?: LearningRate;
  /** Clip each variable's gradient to this L2 norm. */
  clipNorm?: number;
  /** Clip each gradient element to [-clipValue, clipValue]. */
  clipValue?: number;
  /** Scale all gradients together so their joint L2 norm is at most this. */
  globalClipNorm?: number;
  /** Decoupled weight decay: w -= learningRate * weightDecay * w before each update. */
  weightDecay?: number;
}

export const COMMON_KEYS = ['learningRate', 'clipNorm', 'clipValue', 'globalClipNorm', 'weightDecay'];

/** A variable and its gradient, for `applyGradients`. */
export interface GradientPair {
  /** The variable to update (a float tensor, updated in place). */
  variable: Tensor;
  /** Its gradient, of the variable's shape; null or undefined skips the variable. */
  grad: Tensor | null | undefined;
}

/** What a rule computes for one variable: its new value and new slot values. */
export interface RuleResult {
  value: Tensor;
  slots: Tensor[];
}

/**
 * The one optimizer loop (Keras 3's apply_gradients): clip, take the learning rate from the
 * schedule, decay the weights, run the rule for each variable, count the iteration. Subclasses
 * supply the rule twice: as public ops (every backend; the test oracle) and, where it exists, as
 * a fused backend kernel description that does the same in one pass over memory.
 */
export abstract class Optimizer {
  /** Updates applied so far; a schedule sees this as its step. */
  iterations = 0;
  private lr: LearningRate;
  protected readonly common: Required<Pick<CommonOptions, 'weightDecay'>> & Omit<CommonOptions, 'learningRate' | 'weightDecay'>;
  private readonly slots = new Map<Tensor, Tensor[]>();

  protected constructor(
    /** The optimizer's Keras name ('sgd', 'adam', ...), used in messages and configs. */
    readonly name: string,
    options: CommonOptions & Record<string, unknown>,
    ownKeys: readonly string[],
    defaultLearningRate: number,
  ) {
    checkKeys(name, options, [...COMMON_KEYS, ...ownKeys]);
    this.lr = checkLearningRate(name, options.learningRate ?? defaultLearningRate);
    const set = (['clipNorm', 'clipValue', 'globalClipNorm'] as const).filter((k) => options[k] !== undefined);
    if (set.length > 1) throw new ValueError(`${name}: only one of clipNorm, clipValue and globalClipNorm may be set; received ${set.join(', ')}`);
    for (const k of [...set, 'weightDecay'] as const) {
      const v = options[k];
      if (v !== undefined && (typeof v !== 'number' || !(v >= 0)))
        throw new ValueError(`${name}: ${k} must be a number >= 0; received ${fmtValue(v)}`);
    }
    this.common = {
      clipNorm: options.clipNorm,
      clipValue: options.clipValue,
      globalClipNorm: options.globalClipNorm,
      weightDecay: options.weightDecay ?? 0,
    };
  }

  /** Initial slot tensors for a variable (momentum, velocity, ...), in the rule's order. */
  protected abstract initialSlots(variable: Tensor): Tensor[];
  /** The update as public ops: `step` counts from 1 (Keras's local_step). */
  protected abstract rule(w: Tensor, g: Tensor, slots: Tensor[], lr: number, step: number): RuleResult;
  /** The same update as a fused kernel description, when one exists for this configuration. */
  protected fused(_lr: number, _step: number): FusedUpdate | undefined {
    return undefined;
  }
  /** The optimizer's own hyperparameters, for getConfig. */
  protected abstract ownConfig(): Record<string, unknown>;
  /** Called once per applyGradients before the variables are updated (Nadam's running product). */
  protected beforeStep(_step: number): void {}

  /** The learning rate as configured: a number or a schedule of the iteration count. */
  get learningRate(): LearningRate {
    return this.lr;
  }

  /** Replaces the learning rate (callbacks such as reduceLROnPlateau lower it between epochs). */
  set learningRate(lr: LearningRate) {
    this.lr = checkLearningRate(this.name, lr);
  }

  /** The same as assigning `learningRate`, for call sites that read better as a method. */
  setLearningRate(lr: LearningRate): void {
    this.learningRate = lr;
  }

  /** The learning rate the next update will use. */
  currentLearningRate(): number {
    return resolveLearningRate(this.name, this.learningRate, this.iterations);
  }

  /**
   * Minimizes a scalar loss: computes its gradients with respect to `varList` (default: every
   * variable it uses), applies them, returns the loss. `.grad` is left alone.
   * @throws ValueError when `loss` does not return a one-element tensor or uses no variable.
   * @example
   * ```ts
   * const w = st.variable(st.tensor([5]));
   * const opt = st.optimizers.sgd({ learningRate: 0.1 });
   * for (let i = 0; i < 50; i++) opt.minimize(() => w.sub(2).square().sum(), [w]);
   * console.log(await w.array()); // close to 2
   * ```
   */
  minimize(loss: () => Tensor, varList?: readonly Tensor[]): Tensor {
    const value = loss();
    if (!(value instanceof Tensor) || value.size !== 1) {
      throw new ValueError(
        `${this.name}.minimize: the loss function must return a scalar tensor; received ${value instanceof Tensor ? `shape ${fmtShape(value.shape)}` : typeof value}`,
      );
    }
    if (!value.requiresGrad) throw new ValueError(`${this.name}.minimize: the loss does not depend on any variable`);
    const wanted = varList ? new Set(varList) : undefined;
    const grads = backpropagate(value, undefined, false, `${this.name}.minimize`, (t) => (wanted ? wanted.has(t) : !t.node));
    const vars = varList ?? [...grads.keys()];
    this.applyGradients(vars.map((variable) => ({ variable, grad: grads.get(variable) })));
    return value;
  }

  /**
   * One update from given gradients (Keras's apply_gradients); pairs with a null gradient are
   * skipped. Variables are updated in place; the iteration count goes up by one.
   * @throws ValueError for a non-floating variable; ShapeError for a gradient of another shape.
   */
  applyGradients(pairs: readonly GradientPair[]): void {
    const live = pairs.filter((p) => p.grad !== null && p.grad !== undefined) as { variable: Tensor; grad: Tensor }[];
    for (const { variable, grad } of live) {
      if (!isFloat(variable.dtype)) throw new ValueError(`${this.name}: can only update floating variables; received ${variable.dtype}`);
      if (!shapesEqual(variable.shape, grad.shape)) {
        throw new ShapeError(
          `${this.name}: a gradient must have its variable's shape; variable is ${fmtShape(variable.shape)}, gradient is ${fmtShape(grad.shape)}`,
        );
      }
    }
    noGrad(() => {
      const grads = this.clipGradients(live.map((p) => cast(p.grad, p.variable.dtype)));
      const lr = this.currentLearningRate();
      const step = this.iterations + 1;
      this.beforeStep(step);
      const fusedUpdate = this.fused(lr, step);
      live.forEach(({ variable }, i) => this.updateOne(variable, grads[i], lr, step, fusedUpdate));
      this.iterations++;
    });
  }

  // Note [Updates in place]
  // A variable's storage may be shared: getWeights() hands out tensors on it (snapshots a caller
  // expects to keep), and views share it. So updates replace a variable's storage rather than
  // write it, and those tensors keep the old values. But writing a fresh buffer per weight and
  // per slot each step costs memory traffic and allocations: for the MLP's 784x512 weights the
  // update took twice as long as writing in place. Tensors count as owners of their storage
  // (retain/release), so the fused kernel writes over the old values when the variable or slot
  // is its storage's only owner and returns the same storage; with any other owner, even a
  // view the garbage collector has not yet found dead, it writes a new buffer as before. The
  // graph of a step already taken holds the variable itself, not its storage, and reads its
  // current values either way. The first update of a variable made from another tensor (whose
  // storage it shares) is never in place; from then on the variable owns its storage alone.
  private updateOne(variable: Tensor, g: Tensor, lr: number, step: number, fusedUpdate: FusedUpdate | undefined): void {
    const slots = this.slotsOf(variable);
    const backend = variable.backend;
    const decay = lr * this.common.weightDecay;
    if (fusedUpdate && backend.optimizerUpdate && variable.dtype === 'float32' && g.backend === backend) {
      const info = (t: Tensor) => ({ data: t.storage, shape: t.shape, dtype: t.dtype });
      const out = backend.optimizerUpdate({ ...fusedUpdate, decay }, info(variable), info(g), slots.map(info));
      // Note [Updates in place]: a storage with no other owner comes back written over. Otherwise
      // assign() keeps its own hold on the new storage; the wrappers are released at once so the
      // old values go back to the allocator now, not at the next garbage collection.
      const swap = (target: Tensor, handle: typeof out.variable) => {
        if (handle === target.storage) return;
        const t = new Tensor(handle, target.shape, target.dtype, backend);
        target.assign(t);
        t.dispose();
      };
      swap(variable, out.variable);
      slots.forEach((s, k) => swap(s, out.slots[k]));
      return;
    }
    const w = decay > 0 ? sub(variable, mul(variable, decay)) : variable;
    const result = this.rule(w, g, slots, lr, step);
    const values = [cast(result.value, variable.dtype), ...slots.map((s, k) => cast(result.slots[k], s.dtype))];
    variable.assign(values[0]);
    slots.forEach((s, k) => s.assign(values[k + 1]));
    const keep = new Set([variable, ...slots]);
    for (const t of new Set([...values, result.value, ...result.slots, w])) if (!keep.has(t)) t.dispose();
  }

  private slotsOf(variable: Tensor): Tensor[] {
    let s = this.slots.get(variable);
    if (!s) {
      s = this.initialSlots(variable);
      this.slots.set(variable, s);
    }
    return s;
  }

  private clipGradients(grads: Tensor[]): Tensor[] {
    const { clipNorm, clipValue, globalClipNorm } = this.common;
    if (clipValue !== undefined) return grads.map((g) => clip(g, -clipValue, clipValue));
    const scaleTo = (g: Tensor, norm: Tensor, limit: number) => mul(g, minimum(div(limit, norm), 1));
    if (clipNorm !== undefined) return grads.map((g) => scaleTo(g, sqrt(sum(mul(g, g))), clipNorm));
    if (globalClipNorm !== undefined && grads.length) {
      const norm = sqrt(grads.map((g) => sum(mul(g, g))).reduce((a, b) => add(a, b)));
      return grads.map((g) => scaleTo(g, norm, globalClipNorm));
    }
    return grads;
  }

  /** Keras-style config: the learning rate (or its schedule), common options and hyperparameters. */
  getConfig(): Record<string, unknown> {
    const lr = this.learningRate;
    const learningRate = typeof lr === 'number' ? lr : 'className' in lr ? { className: lr.className, config: lr.config } : 'custom function';
    const out: Record<string, unknown> = { name: this.name, learningRate, ...this.ownConfig(), weightDecay: this.common.weightDecay };
    for (const k of ['clipNorm', 'clipValue', 'globalClipNorm'] as const) if (this.common[k] !== undefined) out[k] = this.common[k];
    return out;
  }

  /** A variable's slot tensors (momentum, velocity, ...), or undefined before its first update. */
  slotsFor(variable: Tensor): readonly Tensor[] | undefined {
    return this.slots.get(variable);
  }

  /** How many slot tensors this optimizer keeps per variable. */
  slotCount(variable: Tensor): number {
    return this.slotsOf(variable).length;
  }

  /** Restores one variable's slots (creating them if needed), as saved from slotsFor(). */
  restoreSlots(variable: Tensor, values: readonly Tensor[]): void {
    const slots = this.slotsOf(variable);
    if (values.length !== slots.length) {
      throw new ValueError(
        `${this.name}: expected ${slots.length} slot tensors for a variable of shape ${fmtShape(variable.shape)}; received ${values.length}`,
      );
    }
    slots.forEach((s, k) => {
      if (!shapesEqual(s.shape, values[k].shape))
        throw new ShapeError(`${this.name}: slot ${k} has shape ${fmtShape(s.shape)}; received ${fmtShape(values[k].shape)}`);
      s.assign(cast(values[k], s.dtype));
    });
  }

  /** The state a resumed run needs: the iteration count, then each variable's slots in first-use order. */
  getWeights(): Tensor[] {
    return [tensor(this.iterations, [], 'int32'), ...[...this.slots.values()].flat()];
  }

  /**
   * Restores getWeights() output for the same variables in the same order of first use; slots
   * are created for `variables` (in that order) when the optimizer has not seen them yet.
   */
  setWeights(weights: readonly Tensor[], variables: readonly Tensor[] = [...this.slots.keys()]): void {
    const slotLists = variables.map((v) => this.slotsOf(v));
    const expected = 1 + slotLists.reduce((n, s) => n + s.length, 0);
    if (weights.length !== expected) {
      throw new ValueError(
        `${this.name}.setWeights: expected ${expected} tensors (the iteration count and ${expected - 1} slots); received ${weights.length}`,
      );
    }
    // hostValues: a count made with st.tensor on the GPU is known without a read.
    const count = weights[0].hostValues();
    if (!count) {
      throw new ValueError(
        `${this.name}.setWeights: the iteration count is on the '${weights[0].backend.name}' backend and was computed there; pass it as st.tensor(n) (or read it first with await t.data())`,
      );
    }
    this.iterations = Number(count[0]);
    let k = 1;
    for (const list of slotLists) for (const s of list) s.assign(cast(weights[k++], s.dtype));
  }
}

function checkLearningRate(name: string, lr: unknown): LearningRate {
  if (typeof lr === 'function') return lr as LearningRate;
  if (typeof lr !== 'number') {
    throw new ValueError(`${name}: learningRate must be a number, a schedule or a function of the step; received ${fmtValue(lr)}`);
  }
  if (!Number.isFinite(lr) || lr < 0) throw new ValueError(`${name}: learningRate must be a finite number >= 0; received ${lr}`);
  return lr;
}

/** Slots that start at zero, shaped like the variable. */
export const zeroSlots = (variable: Tensor, count: number): Tensor[] => Array.from({ length: count }, () => zerosLike(variable));
export const filledSlot = (variable: Tensor, value: number): Tensor => full(variable.shape, value, variable.dtype);
