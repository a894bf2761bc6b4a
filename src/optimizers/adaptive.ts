import { abs, add, div, maximum, mul, neg, sqrt, square, sub } from '../ops/elementwise.js';
import type { FusedUpdate } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, filledSlot, zeroSlots, type CommonOptions, type RuleResult } from './optimizer.js';

// Adagrad, Adadelta, Adamax and Nadam. Their rules, written with public ops, run on every backend
// and are the oracle of the fused kernels that a backend may offer for the first three (native
// does); Nadam's momentum cache always runs as ops.

export interface AdagradOptions extends CommonOptions {
  /** The accumulator's starting value. Default 0.1. */
  initialAccumulatorValue?: number;
  /** Added inside the square root for stability. Default 1e-7. */
  epsilon?: number;
}

/** Adagrad: acc += g^2; w -= lr * g / sqrt(acc + epsilon) (epsilon inside the root, as Keras). */
export class Adagrad extends Optimizer {
  /** The accumulator's starting value. */
  readonly initialAccumulatorValue: number;
  /** Added inside the square root. */
  readonly epsilon: number;

  constructor(options: AdagradOptions = {}) {
    super('adagrad', options as AdagradOptions & Record<string, unknown>, ['initialAccumulatorValue', 'epsilon'], 0.001);
    this.initialAccumulatorValue = options.initialAccumulatorValue ?? 0.1;
    this.epsilon = options.epsilon ?? 1e-7;
  }

  protected initialSlots(variable: Tensor): Tensor[] {
    return [filledSlot(variable, this.initialAccumulatorValue)];
  }

  protected rule(w: Tensor, g: Tensor, [acc]: Tensor[], lr: number): RuleResult {
    const acc1 = add(acc, square(g));
    return { value: sub(w, div(mul(g, lr), sqrt(add(acc1, this.epsilon)))), slots: [acc1] };
  }

  protected override fused(lr: number): FusedUpdate {
    return { kind: 'adagrad', lr, decay: 0, epsilon: this.epsilon };
  }

  protected ownConfig() {
    return { initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}

export interface AdadeltaOptions extends CommonOptions {
  /** The decay of the running averages. Default 0.95. */
  rho?: number;
  /** Added inside the square roots. Default 1e-7. */
  epsilon?: number;
}

/**
 * Adadelta, Keras 3's form: a = rho*a + (1-rho)*g^2; delta = -sqrt(d + eps) * g / sqrt(a + eps);
 * d = rho*d + (1-rho)*delta^2; w += lr * delta.
 */
export class Adadelta extends Optimizer {
  /** The decay of the running averages. */
  readonly rho: number;
  /** Added inside the square roots. */
  readonly epsilon: number;

  constructor(options: AdadeltaOptions = {}) {
    super('adadelta', options as AdadeltaOptions & Record<string, unknown>, ['rho', 'epsilon'], 0.001);
    this.rho = options.rho ?? 0.95;
    this.epsilon = options.epsilon ?? 1e-7;
  }

  protected initialSlots(variable: Tensor): Tensor[] {
    return zeroSlots(variable, 2);
  }

  protected rule(w: Tensor, g: Tensor, [accGrad, accDelta]: Tensor[], lr: number): RuleResult {
    const rms = (t: Tensor) => sqrt(add(t, this.epsilon));
    const accGrad1 = add(mul(accGrad, this.rho), mul(square(g), 1 - this.rho));
    const delta = neg(div(mul(rms(accDelta), g), rms(accGrad1)));
    const accDelta1 = add(mul(accDelta, this.rho), mul(square(delta), 1 - this.rho));
    return { value: add(w, mul(delta, lr)), slots: [accGrad1, accDelta1] };
  }

  protected override fused(lr: number): FusedUpdate {
    return { kind: 'adadelta', lr, decay: 0, rho: this.rho, epsilon: this.epsilon };
  }

  protected ownConfig() {
    return { rho: this.rho, epsilon: this.epsilon };
  }
}

export interface AdamaxOptions extends CommonOptions {
  /** The decay of the first moment. Default 0.9. */
  beta1?: number;
  /** The decay of the infinity norm. Default 0.999. */
  beta2?: number;
  /** Added to the denominator. Default 1e-7. */
  epsilon?: number;
}

/** Adamax: m += (g - m)(1 - beta1); u = max(beta2*u, |g|); w -= lr * m / ((1 - beta1^t)(u + epsilon)). */
export class Adamax extends Optimizer {
  /** The decay of the first moment. */
  readonly beta1: number;
  /** The decay of the infinity norm (Nadam: of the second moment). */
  readonly beta2: number;
  /** Added to the denominator. */
  readonly epsilon: number;

  constructor(options: AdamaxOptions = {}, name = 'adamax') {
    super(name, options as AdamaxOptions & Record<string, unknown>, ['beta1', 'beta2', 'epsilon'], 0.001);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
  }

  protected initialSlots(variable: Tensor): Tensor[] {
    return zeroSlots(variable, 2);
  }

  protected rule(w: Tensor, g: Tensor, [m, u]: Tensor[], lr: number, step: number): RuleResult {
    const m1 = add(m, mul(sub(g, m), 1 - this.beta1));
    const u1 = maximum(mul(u, this.beta2), abs(g));
    const scale = lr / (1 - Math.pow(this.beta1, step));
    return { value: sub(w, div(mul(m1, scale), add(u1, this.epsilon))), slots: [m1, u1] };
  }

  protected override fused(lr: number, step: number): FusedUpdate | undefined {
    return { kind: 'adamax', lr: lr / (1 - Math.pow(this.beta1, step)), decay: 0, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  protected ownConfig() {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/**
 * Nadam, Keras 3's form: Adam with Nesterov momentum through the momentum cache
 * u_t = beta1 * (1 - 0.5 * 0.96^t) and its running product.
 */
export class Nadam extends Adamax {
  private productStep = 0;
  private product = 1;

  constructor(options: AdamaxOptions = {}) {
    super(options, 'nadam');
  }

  private u(t: number): number {
    return this.beta1 * (1 - 0.5 * Math.pow(0.96, t));
  }

  /** prod_{i<=t} u_i, advanced incrementally and recomputed after setWeights moves the step. */
  private productAt(t: number): number {
    if (t < this.productStep) {
      this.productStep = 0;
      this.product = 1;
    }
    for (; this.productStep < t; this.productStep++) this.product *= this.u(this.productStep + 1);
    return this.product;
  }

  /** Nadam's rule is its own: no fused kernel (Adamax's would be wrong here). */
  protected override fused(): FusedUpdate | undefined {
    return undefined;
  }

  protected override rule(w: Tensor, g: Tensor, [m, v]: Tensor[], lr: number, step: number): RuleResult {
    const uT = this.u(step),
      uNext = this.u(step + 1);
    const productT = this.productAt(step),
      productNext = productT * uNext;
    const m1 = add(m, mul(sub(g, m), 1 - this.beta1));
    const v1 = add(v, mul(sub(square(g), v), 1 - this.beta2));
    const mHat = add(mul(m1, uNext / (1 - productNext)), mul(g, (1 - uT) / (1 - productT)));
    const vHat = div(v1, 1 - Math.pow(this.beta2, step));
    return { value: sub(w, div(mul(mHat, lr), add(sqrt(vHat), this.epsilon))), slots: [m1, v1] };
  }
}
