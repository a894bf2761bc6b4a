import { ValueError, fmtValue } from '../core/errors.js';

// Value checks shared by the callbacks' option objects. Names are checked by core/options.ts's
// checkKeys; these check that each value is usable, so a bad option fails when the callback is
// made rather than epochs into training.

export function finiteNumber(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ValueError(`${op}: ${name} must be a finite number; received ${fmtValue(value)}`);
  return value;
}

export function nonNegative(op: string, name: string, value: unknown): number {
  const v = finiteNumber(op, name, value);
  if (v < 0) throw new ValueError(`${op}: ${name} must be >= 0; received ${v}`);
  return v;
}

export function nonNegativeInteger(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ValueError(`${op}: ${name} must be an integer >= 0; received ${fmtValue(value)}`);
  }
  return value;
}

export function booleanOption(op: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ValueError(`${op}: ${name} must be true or false; received ${fmtValue(value)}`);
  return value;
}

export function verbosity(op: string, value: unknown, allowed: readonly number[] = [0, 1]): number {
  if (!allowed.includes(value as number)) throw new ValueError(`${op}: verbose must be one of ${allowed.join(', ')}; received ${fmtValue(value)}`);
  return value as number;
}

export function nonEmptyString(op: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValueError(`${op}: ${name} must be a non-empty string; received ${fmtValue(value)}`);
  return value;
}
