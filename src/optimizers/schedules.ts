import { ValueError, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';

// Learning-rate schedules, as in Keras: a function of the optimizer's iteration count before
// the update (0 for the first one). A plain `(step) => number` works anywhere a schedule does;
// the named ones also carry their config so an optimizer's getConfig can describe them.

/**
 * A learning-rate schedule: a function of the optimizer's step count (0 before the first update)
 * that also carries its class name and config, so an optimizer's config can describe it.
 */
export interface Schedule {
  /** The learning rate for an update at `step`. */
  (step: number): number;
  /** Keras's class name ('ExponentialDecay', 'CosineDecay', 'PiecewiseConstant'). */
  readonly className: string;
  /** The options the schedule was made with. */
  readonly config: Record<string, unknown>;
}

/**
 * What an optimizer's `learningRate` takes: a number, a schedule from `st.schedules`, or any
 * function of the step count.
 */
export type LearningRate = number | Schedule | ((step: number) => number);

function positive(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
    throw new ValueError(`${op}: ${name} must be a positive number; received ${fmtValue(v)}`);
  return v;
}

function schedule(className: string, config: Record<string, unknown>, f: (step: number) => number): Schedule {
  return Object.assign((step: number) => f(step), { className, config });
}

/** Options of `st.schedules.exponentialDecay`. */
export interface ExponentialDecayOptions {
  /** The rate at step 0 (> 0). */
  initialLearningRate: number;
  /** The number of steps over which the rate is multiplied by decayRate once (> 0). */
  decaySteps: number;
  /** The factor per decaySteps steps (> 0). */
  decayRate: number;
  /** Decay in whole steps of decaySteps instead of continuously. Default false. */
  staircase?: boolean;
}

/** initialLearningRate * decayRate ^ (step / decaySteps), the exponent floored when `staircase`. */
export function exponentialDecay(options: ExponentialDecayOptions): Schedule {
  checkKeys('exponentialDecay', options, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase']);
  const initial = positive('exponentialDecay', 'initialLearningRate', options.initialLearningRate);
  const steps = positive('exponentialDecay', 'decaySteps', options.decaySteps);
  const rate = positive('exponentialDecay', 'decayRate', options.decayRate);
  const staircase = options.staircase ?? false;
  return schedule('ExponentialDecay', { ...options, staircase }, (step) => {
    const p = step / steps;
    return initial * Math.pow(rate, staircase ? Math.floor(p) : p);
  });
}

/** Options of `st.schedules.cosineDecay`. */
export interface CosineDecayOptions {
  /** The rate at step 0 (>= 0): the start of the warm-up, or the peak without one. */
  initialLearningRate: number;
  /** The length of the cosine, after any warm-up (> 0). */
  decaySteps: number;
  /** The final rate as a fraction of the peak. Default 0. */
  alpha?: number;
  /** The peak the warm-up climbs to; default: no warm-up. */
  warmupTarget?: number;
  /** The warm-up's length in steps. Default 0. */
  warmupSteps?: number;
}

/**
 * Optional linear warm-up from initialLearningRate to warmupTarget over warmupSteps, then a
 * cosine from the peak down to alpha * peak over decaySteps (Keras's CosineDecay).
 */
export function cosineDecay(options: CosineDecayOptions): Schedule {
  checkKeys('cosineDecay', options, ['initialLearningRate', 'decaySteps', 'alpha', 'warmupTarget', 'warmupSteps']);
  const initial = options.initialLearningRate;
  if (typeof initial !== 'number' || !(initial >= 0))
    throw new ValueError(`cosineDecay: initialLearningRate must be >= 0; received ${fmtValue(initial)}`);
  const steps = positive('cosineDecay', 'decaySteps', options.decaySteps);
  const { alpha = 0, warmupTarget, warmupSteps = 0 } = options;
  const peak = warmupTarget ?? initial;
  return schedule('CosineDecay', { ...options, alpha, warmupSteps }, (step) => {
    if (warmupTarget !== undefined && step < warmupSteps) return initial + ((warmupTarget - initial) * step) / warmupSteps;
    const s = Math.min(step - (warmupTarget !== undefined ? warmupSteps : 0), steps);
    const cosine = 0.5 * (1 + Math.cos((Math.PI * s) / steps));
    return peak * ((1 - alpha) * cosine + alpha);
  });
}

/** Options of `st.schedules.piecewiseConstant`. */
export interface PiecewiseConstantOptions {
  /** The steps where the rate changes, ascending. */
  boundaries: number[];
  /** The rates, one more than the boundaries. */
  values: number[];
}

/** values[0] up to and including boundaries[0], values[1] up to boundaries[1], ..., then the last value. */
export function piecewiseConstant(options: PiecewiseConstantOptions): Schedule {
  checkKeys('piecewiseConstant', options, ['boundaries', 'values']);
  const { boundaries, values } = options;
  if (!Array.isArray(boundaries) || !Array.isArray(values) || values.length !== boundaries.length + 1) {
    throw new ValueError(
      `piecewiseConstant: values must have one more entry than boundaries; received ${values?.length} values and ${boundaries?.length} boundaries`,
    );
  }
  return schedule('PiecewiseConstant', { boundaries: boundaries.slice(), values: values.slice() }, (step) => {
    const i = boundaries.findIndex((b) => step <= b);
    return values[i < 0 ? values.length - 1 : i];
  });
}

/** The learning rate for `step`, checking that a schedule produced a usable number. */
export function resolveLearningRate(op: string, lr: LearningRate, step: number): number {
  const value = typeof lr === 'number' ? lr : lr(step);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValueError(`${op}: the learning rate must be a finite number >= 0; at step ${step} it is ${fmtValue(value)}`);
  }
  return value;
}

/**
 * `st.optimizers`' learning-rate schedules (`st.schedules.*`): functions of the optimizer's step
 * count, passed as `learningRate` (Keras's `keras.optimizers.schedules`).
 * @namespace
 */
export const schedules = {
  /** Exponential decay of the learning rate (Keras's ExponentialDecay). */
  exponentialDecay,
  /** Cosine decay, with an optional linear warm-up (Keras's CosineDecay). */
  cosineDecay,
  /** A constant rate per range of steps (Keras's PiecewiseConstantDecay). */
  piecewiseConstant,
};
