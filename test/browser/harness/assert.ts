// A stand-in for node:assert/strict inside a page (bundled in place of it by
// test/browser-conformance.test.ts): the strict forms of the functions the bundled tests call,
// with Node's semantics where a test could tell the difference (equal is Object.is, deepEqual is
// deepStrictEqual: prototypes, NaN, -0 and own enumerable keys count; throws and rejects take a
// class, a validation function, a RegExp or an object of expected properties).

export class AssertionError extends Error {
  override name = 'AssertionError';
  readonly code = 'ERR_ASSERTION';
  constructor(
    message: string,
    readonly actual?: unknown,
    readonly expected?: unknown,
    readonly operator?: string,
  ) {
    super(message);
  }
}

type Message = string | Error | undefined;

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return `[Function ${v.name || 'anonymous'}]`;
  if (Object.is(v, -0)) return '-0';
  if (v && typeof v === 'object') {
    try {
      const json = JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));
      if (json !== undefined) return json.length > 400 ? `${json.slice(0, 400)}...` : json;
    } catch {
      // A cycle: fall through to the tag.
    }
    return Object.prototype.toString.call(v);
  }
  return String(v);
}

function raise(message: Message, fallback: string, actual?: unknown, expected?: unknown, operator?: string): never {
  if (message instanceof Error) throw message;
  throw new AssertionError(message ?? fallback, actual, expected, operator);
}

function isDeepStrictEqual(a: unknown, b: unknown, seen = new Map<object, object>()): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // Functions compare by identity, like everything that is not an object.
    return false;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const tag = Object.prototype.toString.call(a);
  if (tag !== Object.prototype.toString.call(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (a instanceof Date && b instanceof Date) {
    if (!Object.is(a.getTime(), b.getTime())) return false;
  } else if (a instanceof RegExp && b instanceof RegExp) {
    if (a.source !== b.source || a.flags !== b.flags || a.lastIndex !== b.lastIndex) return false;
  } else if (a instanceof Error && b instanceof Error) {
    if (a.message !== b.message || a.name !== b.name) return false;
  } else if (a instanceof Number || a instanceof String || a instanceof Boolean) {
    if (!Object.is(a.valueOf(), (b as { valueOf(): unknown }).valueOf())) return false;
  } else if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    if (a.byteLength !== b.byteLength) return false;
    const x = a as unknown as ArrayLike<unknown>,
      y = b as unknown as ArrayLike<unknown>;
    if (a instanceof DataView) {
      const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
        v = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return false;
    } else {
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    }
  } else if (a instanceof ArrayBuffer && b instanceof ArrayBuffer) {
    if (!isDeepStrictEqual(new Uint8Array(a), new Uint8Array(b), seen)) return false;
  } else if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    const unmatched = [...b.entries()];
    for (const [k, v] of a) {
      const i = unmatched.findIndex(([k2, v2]) => isDeepStrictEqual(k, k2, seen) && isDeepStrictEqual(v, v2, seen));
      if (i < 0) return false;
      unmatched.splice(i, 1);
    }
  } else if (a instanceof Set && b instanceof Set) {
    if (a.size !== b.size) return false;
    const unmatched = [...b];
    for (const k of a) {
      const i = unmatched.findIndex((k2) => isDeepStrictEqual(k, k2, seen));
      if (i < 0) return false;
      unmatched.splice(i, 1);
    }
  } else if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
  }
  // Own enumerable keys (string and symbol), for arrays and typed arrays too (indices included).
  const keys = (o: object) => [...Object.keys(o), ...Object.getOwnPropertySymbols(o).filter((s) => Object.prototype.propertyIsEnumerable.call(o, s))];
  const ka = ArrayBuffer.isView(a) ? [] : keys(a);
  const kb = ArrayBuffer.isView(b) ? [] : keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.propertyIsEnumerable.call(b, k)) return false;
    if (!isDeepStrictEqual((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k], seen)) return false;
  }
  return true;
}

export function ok(value: unknown, message?: Message): asserts value {
  if (!value) raise(message, `The expression evaluated to a falsy value: ${show(value)}`, value, true, '==');
}

export function equal<T>(actual: unknown, expected: T, message?: Message): asserts actual is T {
  if (!Object.is(actual, expected))
    raise(message, `Expected values to be strictly equal:\n${show(actual)} !== ${show(expected)}`, actual, expected, 'strictEqual');
}

export function notEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (Object.is(actual, expected))
    raise(message, `Expected "actual" to be strictly unequal to: ${show(expected)}`, actual, expected, 'notStrictEqual');
}

export function deepEqual<T>(actual: unknown, expected: T, message?: Message): asserts actual is T {
  if (!isDeepStrictEqual(actual, expected))
    raise(message, `Expected values to be strictly deep-equal:\n${show(actual)}\n!==\n${show(expected)}`, actual, expected, 'deepStrictEqual');
}

export function notDeepEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (isDeepStrictEqual(actual, expected))
    raise(message, `Expected "actual" not to be strictly deep-equal to: ${show(expected)}`, actual, expected, 'notDeepStrictEqual');
}

export function fail(message?: Message): never {
  raise(message, 'Failed', undefined, undefined, 'fail');
}

export function match(value: string, pattern: RegExp, message?: Message): void {
  if (typeof value !== 'string' || !pattern.test(value))
    raise(message, `The input did not match the regular expression ${pattern}. Input:\n${show(value)}`, value, pattern, 'match');
}

export function doesNotMatch(value: string, pattern: RegExp, message?: Message): void {
  if (typeof value !== 'string' || pattern.test(value))
    raise(message, `The input was expected to not match the regular expression ${pattern}. Input:\n${show(value)}`, value, pattern, 'doesNotMatch');
}

type Expected = RegExp | ((e: unknown) => unknown) | (new (...a: never[]) => unknown) | Record<string, unknown> | Error;

/** Node's expectedException: a class, a validation function (must return true), a RegExp or an object of properties. */
function check(error: unknown, expected: Expected | undefined, message: Message, operator: string): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    if (!expected.test(String(error))) raise(message, `The error ${show(String(error))} does not match ${expected}`, error, expected, operator);
    return;
  }
  if (typeof expected === 'function') {
    const fn = expected as { prototype?: unknown };
    if (fn.prototype !== undefined && error instanceof (expected as new () => unknown)) return;
    if (Object.prototype.isPrototypeOf.call(Error, expected) || expected === Error) {
      raise(
        message,
        `The error is expected to be an instance of "${expected.name}". Received ${show((error as Error)?.name)}: ${(error as Error)?.message}`,
        error,
        expected,
        operator,
      );
    }
    const result = (expected as (e: unknown) => unknown).call({}, error);
    if (result !== true)
      raise(
        message,
        `The ${expected.name || 'validation'} function is expected to return "true". Received ${show(result)}`,
        error,
        expected,
        operator,
      );
    return;
  }
  for (const [key, want] of Object.entries(expected)) {
    const got = (error as Record<string, unknown>)?.[key];
    const same = want instanceof RegExp && typeof got === 'string' ? want.test(got) : isDeepStrictEqual(got, want);
    if (!same) raise(message, `The error's ${key} is ${show(got)}, expected ${show(want)}`, error, expected, operator);
  }
}

const NONE = Symbol('no error');

export function throws(fn: () => unknown, expected?: Expected | string, message?: Message): void {
  if (typeof expected === 'string') [message, expected] = [expected, undefined];
  let error: unknown = NONE;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  if (error === NONE) raise(message, `Missing expected exception${message ? `: ${message}` : '.'}`, undefined, expected, 'throws');
  check(error, expected, message, 'throws');
}

export function doesNotThrow(fn: () => unknown, message?: Message): void {
  try {
    fn();
  } catch (e) {
    raise(message, `Got unwanted exception: ${(e as Error)?.message ?? e}`, e, undefined, 'doesNotThrow');
  }
}

export async function rejects(fn: Promise<unknown> | (() => Promise<unknown>), expected?: Expected | string, message?: Message): Promise<void> {
  if (typeof expected === 'string') [message, expected] = [expected, undefined];
  let error: unknown = NONE;
  try {
    await (typeof fn === 'function' ? fn() : fn);
  } catch (e) {
    error = e;
  }
  if (error === NONE) raise(message, `Missing expected rejection${message ? `: ${message}` : '.'}`, undefined, expected, 'rejects');
  check(error, expected, message, 'rejects');
}

export async function doesNotReject(fn: Promise<unknown> | (() => Promise<unknown>), message?: Message): Promise<void> {
  try {
    await (typeof fn === 'function' ? fn() : fn);
  } catch (e) {
    raise(message, `Got unwanted rejection: ${(e as Error)?.message ?? e}`, e, undefined, 'doesNotReject');
  }
}

/** The default export: callable as assert(value), with every function on it (strict names too). */
const assert = Object.assign((value: unknown, message?: Message) => ok(value, message), {
  AssertionError,
  ok,
  equal,
  strictEqual: equal,
  notEqual,
  notStrictEqual: notEqual,
  deepEqual,
  deepStrictEqual: deepEqual,
  notDeepEqual,
  notDeepStrictEqual: notDeepEqual,
  fail,
  match,
  doesNotMatch,
  throws,
  doesNotThrow,
  rejects,
  doesNotReject,
});
export default assert;
export { assert as strict, equal as strictEqual, deepEqual as deepStrictEqual };
