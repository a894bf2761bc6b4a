// One error hierarchy for everything Strata rejects. Messages follow one shape:
// "<operation>: <what is wrong>: <what was received>", so a user can find the call
// and the offending value without a debugger.

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
