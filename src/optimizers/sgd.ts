import type { FusedUpdate } from '../backend/backend.js';
import { ValueError } from '../core/errors.js';
import { add, mul, sub } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, zeroSlots, type CommonOptions, type RuleResult } from './optimizer.js';

export interface SgdOptions extends CommonOptions {
  /** Momentum, >= 0. Default 0 (plain gradient descent). */
  momentum?: number;
  /** Use Nesterov momentum. Default false. */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent, Keras 3's form: with momentum, m = momentum*m - lr*g and
 * w += m (nesterov: w += momentum*m - lr*g); without, w -= lr*g.
 */
export class SGD extends Optimizer {
  /** The momentum. */
  readonly momentum: number;
  /** Whether the momentum is Nesterov's. */
  readonly nesterov: boolean;

  constructor(options: SgdOptions = {}) {
    super('sgd', options as SgdOptions & Record<string, unknown>, ['momentum', 'nesterov'], 0.01);
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(`sgd: momentum must be in [0, 1]; received ${this.momentum}`);
  }

  protected initialSlots(variable: Tensor): Tensor[] {
    return zeroSlots(variable, this.momentum > 0 ? 1 : 0);
  }

  protected rule(w: Tensor, g: Tensor, [m]: Tensor[], lr: number): RuleResult {
    if (this.momentum === 0) return { value: sub(w, mul(g, lr)), slots: [] };
    const m1 = sub(mul(m, this.momentum), mul(g, lr));
    const value = this.nesterov ? sub(add(w, mul(m1, this.momentum)), mul(g, lr)) : add(w, m1);
    return { value, slots: [m1] };
  }

  protected override fused(lr: number): FusedUpdate {
    return { kind: 'sgd', lr, decay: 0, momentum: this.momentum, nesterov: this.nesterov };
  }

  protected ownConfig() {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}
