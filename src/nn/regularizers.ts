import { ValueError, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { abs, add, mul, square } from '../ops/elementwise.js';
import { sum } from '../ops/reduction.js';
import { full } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

// Weight penalties with Keras 3's definitions: l1 * sum(|w|) and l2 * sum(w^2) (no factor 1/2).
// The factories default to 0.01 per term, as Keras's string identifiers 'l1', 'l2' and 'l1_l2'
// do (Keras's L1L2 class alone defaults to 0).

/**
 * A weight penalty (Keras's `keras.regularizers.Regularizer`), from `st.regularizers`; layers add
 * it to the training loss for the weights given it (`kernelRegularizer`, ...).
 */
export interface Regularizer {
  /** 'L1', 'L2' or 'L1L2', as Keras names the classes. */
  readonly className: string;
  /** The penalty for one weight: a scalar of the weight's dtype, differentiable in it. */
  apply(weight: Tensor): Tensor;
  /** The options that rebuild it, as model.json stores them. */
  getConfig(): Record<string, unknown>;
}

/** What layers take as a regularizer: a name ('l1', 'l2', 'l1_l2'), a regularizer, or `{className, config}`. */
export type RegularizerIdentifier =
  | string
  | Regularizer
  | {
      /** The Keras class name. */
      className: string;
      /** Its options. */
      config?: Record<string, unknown>;
    };

/** Keras accepts non-negative finite factors only. */
function checkFactor(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValueError(`${op}: ${name} must be a non-negative finite number; received ${fmtValue(value)}`);
  }
  return value;
}

class L1L2 implements Regularizer {
  constructor(
    readonly className: 'L1' | 'L2' | 'L1L2',
    readonly l1: number,
    readonly l2: number,
  ) {}

  apply(weight: Tensor): Tensor {
    // Terms with a zero factor are left out, as in Keras: they add nothing but work.
    let penalty: Tensor | null = null;
    if (this.l1) penalty = mul(sum(abs(weight)), this.l1);
    if (this.l2) {
      const term = mul(sum(square(weight)), this.l2);
      penalty = penalty ? add(penalty, term) : term;
    }
    return penalty ?? full([], 0, weight.dtype);
  }

  getConfig(): Record<string, unknown> {
    if (this.className === 'L1') return { l1: this.l1 };
    if (this.className === 'L2') return { l2: this.l2 };
    return { l1: this.l1, l2: this.l2 };
  }
}

/** Options of `st.regularizers.l1`. */
export interface L1Options {
  /** The factor of sum(|w|), >= 0. Default 0.01. */
  l1?: number;
}
/** Options of `st.regularizers.l2`. */
export interface L2Options {
  /** The factor of sum(w²), >= 0. Default 0.01. */
  l2?: number;
}
/** Options of `st.regularizers.l1l2`. */
export interface L1L2Options {
  /** The factor of sum(|w|), >= 0. Default 0.01. */
  l1?: number;
  /** The factor of sum(w²), >= 0. Default 0.01. */
  l2?: number;
}

/** l1 * sum(|w|), l1 = 0.01 by default. */
export function l1(options: L1Options = {}): Regularizer {
  checkKeys('l1', options, ['l1']);
  return new L1L2('L1', checkFactor('l1', 'l1', options.l1 ?? 0.01), 0);
}

/** l2 * sum(w^2), l2 = 0.01 by default. */
export function l2(options: L2Options = {}): Regularizer {
  checkKeys('l2', options, ['l2']);
  return new L1L2('L2', 0, checkFactor('l2', 'l2', options.l2 ?? 0.01));
}

/** l1 * sum(|w|) + l2 * sum(w^2), both 0.01 by default. */
export function l1l2(options: L1L2Options = {}): Regularizer {
  checkKeys('l1l2', options, ['l1', 'l2']);
  return new L1L2('L1L2', checkFactor('l1l2', 'l1', options.l1 ?? 0.01), checkFactor('l1l2', 'l2', options.l2 ?? 0.01));
}

/**
 * `st.regularizers.*`: weight penalties added to the training loss, for layers'
 * `kernelRegularizer` and the like (Keras's l1, l2, l1_l2).
 * @namespace
 */
export const regularizers = {
  /** `l1 · sum(|w|)` (Keras's L1). */
  l1,
  /** `l2 · sum(w²)`, without a factor 1/2 (Keras's L2). */
  l2,
  /** Both penalties (Keras's L1L2). */
  l1l2,
};

type Factory = (config?: Record<string, unknown>) => Regularizer;
// 'l1_l2', 'l1l2' and the class name 'L1L2' all normalize to one key.
const normalize = (name: string) => name.replace(/_/g, '').toLowerCase();
const FACTORIES = new Map<string, Factory>(Object.entries(regularizers).map(([name, make]) => [name, make as Factory]));

function factoryFor(name: string): Factory {
  const make = FACTORIES.get(normalize(name));
  if (!make) {
    throw new ValueError(`getRegularizer: unknown regularizer ${fmtValue(name)}; expected one of: l1, l2, l1l2 (or Keras's l1_l2, L1, L2, L1L2)`);
  }
  return make;
}

function isRegularizer(id: unknown): id is Regularizer {
  return typeof id === 'object' && id !== null && typeof (id as Regularizer).apply === 'function';
}

/** A regularizer by name (0.01 factors), the regularizer itself, or a serialized `{className, config}`. */
export function getRegularizer(id: RegularizerIdentifier): Regularizer {
  if (typeof id === 'string') return factoryFor(id)();
  if (isRegularizer(id)) return id;
  if (typeof id === 'object' && id !== null && typeof id.className === 'string') {
    return factoryFor(id.className)({ ...(id.config ?? {}) });
  }
  throw new ValueError(`getRegularizer: expected a name, a regularizer or {className, config}; received ${fmtValue(id)}`);
}

/** A regularizer's `{className, config}` form, as model.json stores it. */
export function serializeRegularizer(r: Regularizer): {
  /** The Keras class name. */
  className: string;
  /** Its options. */
  config: Record<string, unknown>;
} {
  return { className: r.className, config: r.getConfig() };
}
