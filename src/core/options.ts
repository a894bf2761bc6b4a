import { ValueError, fmtValue } from './errors.js';

/** Rejects option names an op does not know, so a typo fails loudly instead of being ignored. */
export function checkKeys(op: string, options: object | undefined, allowed: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object') throw new ValueError(`${op}: options must be an object; received ${typeof options}`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new ValueError(`${op}: unknown option '${key}'; expected one of: ${allowed.join(', ')}`);
    }
  }
}

/** Checks that a value is one of a string-literal union. */
export function checkOneOf<T extends string>(op: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new ValueError(`${op}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; received ${fmtValue(value)}`);
  }
  return value as T;
}
