import type { FusedUpdate } from '../backend/backend.js';
import { add, div, mul, sqrt, square, sub } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, zeroSlots, type CommonOptions, type RuleResult } from './optimizer.js';

export interface RmspropOptions extends CommonOptions {
  /** The decay of the running average of squared gradients. Default 0.9. */
  rho?: number;
  /** Momentum applied to the steps. Default 0 (none). */
  momentum?: number;
  /** Added inside the square root. Default 1e-7. */
  epsilon?: number;
  /** Divide by the estimated variance of the gradient instead of its second moment. Default false. */
  centered?: boolean;
}

/**
 * RMSprop, Keras 3's form: v = rho*v + (1-rho)*g^2; step = lr*g / sqrt(v + epsilon) with epsilon
 * INSIDE the root (PyTorch adds it outside); centered subtracts the squared running mean of g
 * under the root; with momentum, m = momentum*m + step and w -= m.
 */
export class RMSprop extends Optimizer {
  /** The decay of the running average of squared gradients. */
  readonly rho: number;
  /** Momentum applied to the steps. */
  readonly momentum: number;
  /** Added inside the square root. */
  readonly epsilon: number;
  /** Whether the running mean of the gradient is subtracted. */
  readonly centered: boolean;

  constructor(options: RmspropOptions = {}) {
    super('rmsprop', options as RmspropOptions & Record<string, unknown>, ['rho', 'momentum', 'epsilon', 'centered'], 0.001);
    this.rho = options.rho ?? 0.9;
    this.momentum = options.momentum ?? 0;
    this.epsilon = options.epsilon ?? 1e-7;
    this.centered = options.centered ?? false;
  }

  protected initialSlots(variable: Tensor): Tensor[] {
    return zeroSlots(variable, 1 + (this.momentum > 0 ? 1 : 0) + (this.centered ? 1 : 0));
  }

  protected rule(w: Tensor, g: Tensor, slots: Tensor[], lr: number): RuleResult {
    const [v, ...rest] = slots;
    const m = this.momentum > 0 ? rest.shift() : undefined;
    const ag = this.centered ? rest.shift() : undefined;
    const v1 = add(mul(v, this.rho), mul(square(g), 1 - this.rho));
    const ag1 = ag && add(mul(ag, this.rho), mul(g, 1 - this.rho));
    const denominator = ag1 ? add(sub(v1, square(ag1)), this.epsilon) : add(v1, this.epsilon);
    const increment = div(mul(g, lr), sqrt(denominator));
    const m1 = m && add(mul(m, this.momentum), increment);
    const value = sub(w, m1 ?? increment);
    return { value, slots: [v1, ...(m1 ? [m1] : []), ...(ag1 ? [ag1] : [])] };
  }

  protected override fused(lr: number): FusedUpdate {
    return { kind: 'rmsprop', lr, decay: 0, rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }

  protected ownConfig() {
    return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}
