import type { FusedUpdate } from '../backend/backend.js';
import { add, div, maximum, mul, sqrt, square, sub } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, zeroSlots, type CommonOptions, type RuleResult } from './optimizer.js';

export interface AdamOptions extends CommonOptions {
  /** The decay of the first moment (the mean of gradients). Default 0.9. */
  beta1?: number;
  /** The decay of the second moment (the mean of squared gradients). Default 0.999. */
  beta2?: number;
  /** Added to the denominator, outside the square root. Default 1e-7. */
  epsilon?: number;
  /** Divide by the running maximum of the second moment (AMSGrad). Default false. */
  amsgrad?: boolean;
}

/**
 * Adam, Keras 3's form: m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2);
 * w -= alpha * m / (sqrt(v) + epsilon) with alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t),
 * epsilon outside the root; amsgrad divides by the running maximum of v instead.
 */
export class Adam extends Optimizer {
  /** The decay of the first moment. */
  readonly beta1: number;
  /** The decay of the second moment. */
  readonly beta2: number;
  /** Added to the denominator. */
  readonly epsilon: number;
  /** Whether AMSGrad is used. */
  readonly amsgrad: boolean;

  constructor(options: AdamOptions = {}, name = 'adam', defaultWeightDecay = 0) {
    super(
      name,
      { ...options, weightDecay: options.weightDecay ?? defaultWeightDecay } as AdamOptions & Record<string, unknown>,
      ['beta1', 'beta2', 'epsilon', 'amsgrad'],
      0.001,
    );
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
    this.amsgrad = options.amsgrad ?? false;
  }

  private alpha(lr: number, step: number): number {
    return (lr * Math.sqrt(1 - Math.pow(this.beta2, step))) / (1 - Math.pow(this.beta1, step));
  }

  protected initialSlots(variable: Tensor): Tensor[] {
    return zeroSlots(variable, this.amsgrad ? 3 : 2);
  }

  protected rule(w: Tensor, g: Tensor, [m, v, vhat]: Tensor[], lr: number, step: number): RuleResult {
    const m1 = add(m, mul(sub(g, m), 1 - this.beta1));
    const v1 = add(v, mul(sub(square(g), v), 1 - this.beta2));
    const vhat1 = this.amsgrad ? maximum(vhat, v1) : undefined;
    const value = sub(w, div(mul(m1, this.alpha(lr, step)), add(sqrt(vhat1 ?? v1), this.epsilon)));
    return { value, slots: vhat1 ? [m1, v1, vhat1] : [m1, v1] };
  }

  protected override fused(lr: number, step: number): FusedUpdate {
    return { kind: 'adam', lr: this.alpha(lr, step), decay: 0, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, amsgrad: this.amsgrad };
  }

  protected ownConfig() {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, amsgrad: this.amsgrad };
  }
}

/** Adam with decoupled weight decay (Keras's AdamW: weightDecay defaults to 0.004). */
export class AdamW extends Adam {
  constructor(options: AdamOptions = {}) {
    super(options, 'adamw', 0.004);
  }
}
