// One error hierarchy for everything Strata rejects. Messages follow one shape:
// "<operation>: <what is wrong>: <what was received>", so a user can find the call
// and the offending value without a debugger.

/**
 * The base class of every error Strata throws on purpose; `instanceof st.StrataError` tells them
 * from bugs and from Node's own errors. Messages name the operation, what it expected and what it
 * received.
 */
export class StrataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together (matmul inner dims, broadcasting, reshape sizes). */
export class ShapeError extends StrataError {}

/** A dtype that an operation does not accept, or two dtypes that cannot be combined. */
export class DtypeError extends StrataError {}

/** A bad option value or name, an out-of-range axis or index, a misuse of the API. */
export class ValueError extends StrataError {}

/** A corrupt or truncated file (IDX, CSV, safetensors, model.json); names the file. */
export class FormatError extends StrataError {}

/** Formats a shape the way error messages print it: [64, 784]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Formats a received value for an error message. JSON.stringify prints NaN and ±Infinity as
 * `null` (and a function or undefined as nothing), which hides exactly the bad numbers a
 * message is about; this keeps JSON's spelling for strings, arrays and plain objects (so
 * messages that quote them do not change) but writes numbers as JavaScript does: NaN,
 * Infinity, -0.
 */
export function fmtValue(value: unknown): string {
  const seen = new Set<object>();
  const fmt = (v: unknown): string => {
    if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'function') return v.name ? `function ${v.name}` : 'a function';
    if (v === null || typeof v !== 'object') return String(v); // undefined, booleans, symbols
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    try {
      if (Array.isArray(v)) return `[${v.map(fmt).join(',')}]`;
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
        return `${v.constructor.name} [${Array.from(v as unknown as ArrayLike<number>, fmt).join(',')}]`;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return `a ${(v as object).constructor?.name ?? 'object'}`;
      return `{${Object.entries(v)
        .map(([k, x]) => `${JSON.stringify(k)}:${fmt(x)}`)
        .join(',')}}`;
    } finally {
      seen.delete(v);
    }
  };
  return fmt(value);
}
