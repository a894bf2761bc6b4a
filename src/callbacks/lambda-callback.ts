import { ValueError } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { HOOKS, type Callback } from './callback.js';

/** Any of the hooks, as plain functions (Keras's LambdaCallback with camelCase names). */
export type LambdaCallbackOptions = Pick<Callback, (typeof HOOKS)[number]>;

/** A callback made of the given functions; hooks not given are absent, so they cost nothing. */
export class LambdaCallback implements Callback {
  constructor(options: LambdaCallbackOptions = {}) {
    checkKeys('lambdaCallback', options, HOOKS);
    for (const [name, f] of Object.entries(options)) {
      if (f === undefined) continue;
      if (typeof f !== 'function') throw new ValueError(`lambdaCallback: ${name} must be a function; received ${typeof f}`);
      Object.defineProperty(this, name, { value: f, enumerable: true });
    }
  }
}
