// The sources of the Dataset pipeline: in-memory arrays (a row view, Note [Row views] in
// dataset.ts) and user generators.

import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { Dataset, type ArraysInput, type Row, type RowArrays } from './dataset.js';

function toArrays(op: string, name: string, value: unknown): ArraysInput {
  if (value instanceof Tensor) return value;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Tensor)) return value as Tensor[];
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return tensor(value as number[]);
  throw new ValueError(`${op}: ${name} must be a tensor or an array of tensors; received ${typeof value}`);
}

function leaves(a: ArraysInput): readonly Tensor[] {
  return a instanceof Tensor ? [a] : a;
}

/**
 * A dataset over the rows (first axis) of in-memory tensors: elements are `{xs, ys}` when y is
 * given, else the row of x. x and y may each be one tensor or an array of tensors.
 */
export function fromArrays<X extends ArraysInput>(x: X): Dataset<Row<X>>;
/**
 * With y: elements `{xs, ys}`, a row of each.
 * @example
 * ```ts
 * const ds = st.data.fromArrays(st.randomNormal([6, 2]), st.tensor([0, 1, 0, 1, 1, 0], undefined, 'int32'));
 * for await (const { xs, ys } of ds.batch(4)) console.log(xs.shape, ys.shape); // [4, 2] [4], then [2, 2] [2]
 * ```
 */
export function fromArrays<X extends ArraysInput, Y extends ArraysInput>(
  x: X,
  y: Y,
): Dataset<{
  /** A row of x. */
  xs: Row<X>;
  /** The same row of y. */
  ys: Row<Y>;
}>;
export function fromArrays(x: unknown, y?: unknown): Dataset<unknown> {
  const arrays: RowArrays = { x: toArrays('fromArrays', 'x', x) };
  if (y !== undefined) arrays.y = toArrays('fromArrays', 'y', y);
  const all = [...leaves(arrays.x), ...(arrays.y === undefined ? [] : leaves(arrays.y))];
  for (const t of all) {
    if (t.rank === 0) throw new ShapeError(`fromArrays: every array needs a first (row) axis; received a scalar`);
  }
  const count = all[0].shape[0];
  for (const t of all) {
    if (t.shape[0] !== count) {
      throw new ShapeError(
        `fromArrays: every array must have the same number of rows: the first has ${count} (shape ${fmtShape(all[0].shape)}), another has ${t.shape[0]} (shape ${fmtShape(t.shape)})`,
      );
    }
  }
  return new Dataset<unknown>({ size: count, rows: { arrays, indices: () => rangeSync(count) } });
}

function* rangeSync(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** @inline */
type GeneratorResult<T> = Iterator<T> | AsyncIterator<T> | Iterable<T> | AsyncIterable<T>;

/** A dataset whose every pass calls fn for a fresh (sync or async) iterator; the size is unknown. */
export function fromGenerator<T>(fn: () => GeneratorResult<T>): Dataset<T> {
  if (typeof fn !== 'function') throw new ValueError(`fromGenerator: fn must be a function returning an iterator; received ${typeof fn}`);
  return new Dataset<T>({
    size: null,
    open: () => {
      const made = fn() as unknown;
      if (made !== null && typeof made === 'object') {
        const m = made as Partial<AsyncIterable<T> & Iterable<T> & Iterator<T>>;
        if (typeof m[Symbol.asyncIterator] === 'function') return m[Symbol.asyncIterator]!();
        if (typeof m[Symbol.iterator] === 'function') {
          const sync = m as Iterable<T>;
          return (async function* () {
            yield* sync;
          })();
        }
        if (typeof m.next === 'function') {
          const it = m as AsyncIterator<T> | Iterator<T>;
          return (async function* () {
            for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
          })();
        }
      }
      throw new ValueError(`fromGenerator: fn must return an iterator or iterable; received ${made === null ? 'null' : typeof made}`);
    },
  });
}
