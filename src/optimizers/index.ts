import { ValueError, fmtValue } from '../core/errors.js';
import { Adam, AdamW, type AdamOptions } from './adam.js';
import { Adadelta, Adagrad, Adamax, Nadam, type AdadeltaOptions, type AdagradOptions, type AdamaxOptions } from './adaptive.js';
import { Optimizer } from './optimizer.js';
import { RMSprop, type RmspropOptions } from './rmsprop.js';
import { SGD, type SgdOptions } from './sgd.js';

export { Optimizer, type CommonOptions, type GradientPair } from './optimizer.js';
export { SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam };
export type { SgdOptions, RmspropOptions, AdamOptions, AdagradOptions, AdadeltaOptions, AdamaxOptions };
export { schedules, type Schedule, type LearningRate } from './schedules.js';
import { schedules, type Schedule, type LearningRate } from './schedules.js';

/**
 * `st.optimizers.*`: factories with Keras's names and defaults; each also takes the options
 * every optimizer shares ({@link OptimizerOptions}: clipping, weight decay).
 * @namespace
 */
export const optimizers = {
  /** Stochastic gradient descent, with optional (Nesterov) momentum (Keras's SGD; learning rate 0.01). */
  sgd: (options?: SgdOptions) => new SGD(options),
  /** RMSprop (Keras's form, epsilon inside the square root; learning rate 0.001). */
  rmsprop: (options?: RmspropOptions) => new RMSprop(options),
  /**
   * Adam (Keras's form; learning rate 0.001), optionally AMSGrad.
   * @example
   * ```ts
   * const opt = st.optimizers.adam({ learningRate: 1e-3, globalClipNorm: 1 });
   * ```
   */
  adam: (options?: AdamOptions) => new Adam(options),
  /** Adam with decoupled weight decay (Keras's AdamW; weightDecay 0.004 by default). */
  adamw: (options?: AdamOptions) => new AdamW(options),
  /** Adagrad (Keras's form; learning rate 0.001). */
  adagrad: (options?: AdagradOptions) => new Adagrad(options),
  /** Adadelta (Keras's form; learning rate 0.001). */
  adadelta: (options?: AdadeltaOptions) => new Adadelta(options),
  /** Adamax, Adam with the infinity norm (Keras's form; learning rate 0.001). */
  adamax: (options?: AdamaxOptions) => new Adamax(options),
  /** Nadam, Adam with Nesterov momentum (Keras's form; learning rate 0.001). */
  nadam: (options?: AdamaxOptions) => new Nadam(options),
};

export type OptimizerName = keyof typeof optimizers;

/** An optimizer by Keras name ('sgd', 'rmsprop', 'adam', ...) with its defaults, or the optimizer itself. */
export function getOptimizer(identifier: OptimizerName | Optimizer): Optimizer {
  if (identifier instanceof Optimizer) return identifier;
  const make = typeof identifier === 'string' && Object.hasOwn(optimizers, identifier) ? optimizers[identifier as OptimizerName] : undefined;
  if (!make) {
    throw new ValueError(`unknown optimizer ${fmtValue(identifier)}; expected one of ${Object.keys(optimizers).join(', ')} or an optimizer object`);
  }
  return make();
}

/** Rebuilds an optimizer from getConfig() output (as stored in model.json); learning-rate schedules by class name. */
export function optimizerFromConfig(config: Record<string, unknown>): Optimizer {
  const { name, learningRate, ...rest } = config;
  const make = typeof name === 'string' && Object.hasOwn(optimizers, name) ? optimizers[name as OptimizerName] : undefined;
  if (!make) throw new ValueError(`optimizer config: unknown optimizer ${fmtValue(name)}; expected one of ${Object.keys(optimizers).join(', ')}`);
  let lr: LearningRate | undefined;
  if (typeof learningRate === 'number') lr = learningRate;
  else if (learningRate && typeof learningRate === 'object' && 'className' in learningRate) {
    const spec = learningRate as { className: string; config: Record<string, unknown> };
    const factory = Object.entries(schedules).find(([k]) => k.toLowerCase() === String(spec.className).toLowerCase())?.[1];
    if (!factory)
      throw new ValueError(
        `optimizer config: unknown learning-rate schedule ${fmtValue(spec.className)}; expected one of ${Object.keys(schedules).join(', ')}`,
      );
    lr = (factory as (c: unknown) => Schedule)(spec.config);
  } else {
    throw new ValueError(
      `optimizer config: the learning rate ${fmtValue(learningRate)} cannot be restored (a custom function is not saved); pass the optimizer to compile yourself`,
    );
  }
  return (make as (o: Record<string, unknown>) => Optimizer)({ ...rest, learningRate: lr });
}
