import { ValueError } from '../core/errors.js';
import { Adam, AdamW, type AdamOptions } from './adam.js';
import { Adadelta, Adagrad, Adamax, Nadam, type AdadeltaOptions, type AdagradOptions, type AdamaxOptions } from './adaptive.js';
import { Optimizer } from './optimizer.js';
import { RMSprop, type RmspropOptions } from './rmsprop.js';
import { SGD, type SgdOptions } from './sgd.js';

export { Optimizer, type CommonOptions, type GradientPair } from './optimizer.js';
export { SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam };
export type { SgdOptions, RmspropOptions, AdamOptions, AdagradOptions, AdadeltaOptions, AdamaxOptions };
export { schedules, type Schedule, type LearningRate } from './schedules.js';

/** `st.optimizers.*`: factories with Keras's names and defaults. */
export const optimizers = {
  sgd: (options?: SgdOptions) => new SGD(options),
  rmsprop: (options?: RmspropOptions) => new RMSprop(options),
  adam: (options?: AdamOptions) => new Adam(options),
  adamw: (options?: AdamOptions) => new AdamW(options),
  adagrad: (options?: AdagradOptions) => new Adagrad(options),
  adadelta: (options?: AdadeltaOptions) => new Adadelta(options),
  adamax: (options?: AdamaxOptions) => new Adamax(options),
  nadam: (options?: AdamaxOptions) => new Nadam(options),
};

export type OptimizerName = keyof typeof optimizers;

/** An optimizer by Keras name ('sgd', 'rmsprop', 'adam', ...) with its defaults, or the optimizer itself. */
export function getOptimizer(identifier: OptimizerName | Optimizer): Optimizer {
  if (identifier instanceof Optimizer) return identifier;
  const make = optimizers[identifier as OptimizerName];
  if (typeof identifier !== 'string' || !make) {
    throw new ValueError(`unknown optimizer ${JSON.stringify(identifier)}; expected one of ${Object.keys(optimizers).join(', ')} or an optimizer object`);
  }
  return make();
}
