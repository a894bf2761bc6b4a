// Dataset: a lazy, re-iterable stream of elements with tf.data's transformations (map, filter,
// shuffle, batch, take, skip, repeat, prefetch). Each `for await` opens a fresh pass over the
// source; nothing is read before iteration starts, but every argument is checked when the
// transformation is called.
//
// Note [Row views]
// A dataset made by `fromArrays` (and any chain of shuffle/take/skip/repeat on it) is a "row
// view": a stream of row indices into in-memory tensors. Those transformations act on the
// index stream, and `batch` then cuts each batch with ONE gather per array instead of
// gathering n single rows and stacking them, which is what makes shuffled epochs over 60,000
// MNIST images cheap. Any other transformation (map, filter, prefetch) turns the view into an
// ordinary element stream.

import { checkKeys } from '../core/options.js';
import { ValueError } from '../core/errors.js';
import { gather } from '../ops/shape-ops.js';
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { HostRandom, derivedKey, globalKey, shuffleAsync, shuffleSync, type PhiloxKey } from './host-random.js';
import { stackElements, type Batched } from './structure.js';

export type { Batched } from './structure.js';

/** Row arrays: one tensor, or several (a model with several inputs or outputs). */
export type ArraysInput = Tensor | readonly Tensor[];

/** The element type of `fromArrays`: a row of each array. */
export type Row<A extends ArraysInput> = A extends Tensor ? Tensor : Tensor[];

export interface RowArrays {
  x: ArraysInput;
  y?: ArraysInput;
}

interface RowView {
  arrays: RowArrays;
  indices: () => Iterator<number>;
}

interface DatasetParts<T> {
  size: number | null;
  open?: () => AsyncIterator<T>;
  rows?: RowView;
}

/** Options of `dataset.shuffle()`. */
export interface ShuffleOptions {
  /** Fixes the order; otherwise each pass draws from the global stream (`st.setSeed`). */
  seed?: number;
  /** A new order on every pass (default true); with false every pass repeats the first order. */
  reshuffleEachIteration?: boolean;
}

/** Options of `dataset.batch()`. */
export interface BatchOptions {
  /** Drop a last batch smaller than n (default false), so every batch has n elements. */
  dropRemainder?: boolean;
}

export function checkCount(op: string, name: string, value: unknown, min: 0 | 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const what = min === 1 ? 'a positive integer' : 'a non-negative integer';
    throw new ValueError(`${op}: ${name} must be ${what}; received ${typeof value === 'number' ? value : JSON.stringify(value)}`);
  }
  return value;
}

function gatherRows(arrays: RowArrays, index: Tensor): unknown {
  const pick = (a: ArraysInput) => (a instanceof Tensor ? gather(a, index, 0) : a.map((t) => gather(t, index, 0)));
  return arrays.y === undefined ? pick(arrays.x) : { xs: pick(arrays.x), ys: pick(arrays.y) };
}

function* takeSync(source: Iterator<number>, n: number): Generator<number> {
  for (let i = 0; i < n; i++) {
    const r = source.next();
    if (r.done) return;
    yield r.value;
  }
}

function* skipSync(source: Iterator<number>, n: number): Generator<number> {
  let r = source.next();
  for (let i = 0; i < n && !r.done; i++) r = source.next();
  for (; !r.done; r = source.next()) yield r.value;
}

/** Repeats passes; a pass that yields nothing ends the loop, so an empty dataset never spins. */
function* repeatSync(open: () => Iterator<number>, count: number): Generator<number> {
  for (let pass = 0; pass < count; pass++) {
    let any = false;
    const it = open();
    for (let r = it.next(); !r.done; r = it.next()) {
      any = true;
      yield r.value;
    }
    if (!any) return;
  }
}

/** One key per pass (Note [Per-iteration shuffle keys] in host-random.ts). */
function shuffleKeys(seed: number | undefined, reshuffle: boolean): () => PhiloxKey {
  if (seed !== undefined) {
    let pass = 0;
    return () => derivedKey(seed, reshuffle ? pass++ : 0);
  }
  if (!reshuffle) {
    const key = globalKey();
    return () => key;
  }
  return globalKey;
}

function iterable<T>(open: () => AsyncIterator<T>): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: open };
}

/**
 * An asynchronous pipeline of elements (tf.data's Dataset): made by `st.data.fromArrays`,
 * `fromGenerator`, `loadCsv` or `imageFolder`, transformed by methods that each return a new
 * Dataset (`map`, `filter`, `shuffle`, `batch`, `take`, `skip`, `repeat`, ...), and read with
 * `for await`, each loop a new pass from the start. `model.fit` and `evaluate` take a Dataset of
 * `{xs, ys}` batches.
 * @example
 * ```ts
 * const x = st.randomNormal([100, 4]), y = st.randomUniform([100, 1]);
 * const batches = st.data.fromArrays(x, y).shuffle(100, { seed: 0 }).batch(32);
 * for await (const { xs, ys } of batches) console.log(xs.shape, ys.shape); // [32, 4] [32, 1], ..., [4, 4] [4, 1]
 * ```
 */
export class Dataset<T> implements AsyncIterable<T> {
  /** Number of elements: null when unknown (after filter, or from a generator), Infinity after repeat(). */
  readonly size: number | null;
  private readonly open: () => AsyncIterator<T>;
  private readonly rows: RowView | undefined;

  /**
   * Use `st.data.fromArrays`, `fromGenerator`, `loadCsv` or `imageFolder` to make one.
   * @internal
   */
  constructor(parts: DatasetParts<T>) {
    this.size = parts.size;
    this.rows = parts.rows;
    const rows = parts.rows;
    if (rows !== undefined) {
      this.open = async function* () {
        for (const i of { [Symbol.iterator]: rows.indices }) yield gatherRows(rows.arrays, tensor(i, [], 'int32')) as T;
      };
    } else if (parts.open !== undefined) {
      this.open = parts.open;
    } else {
      throw new ValueError('Dataset: expected a source (open) or rows');
    }
  }

  /** A new pass over the elements, from the start. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.open();
  }

  /** A dataset over the same arrays whose index stream is transformed (Note [Row views]). */
  private withRows(size: number | null, indices: (source: () => Iterator<number>) => () => Iterator<number>): Dataset<T> | null {
    if (this.rows === undefined) return null;
    const rows = this.rows;
    return new Dataset<T>({ size, rows: { arrays: rows.arrays, indices: indices(rows.indices) } });
  }

  /** Applies fn (sync or async) to each element. */
  map<U>(fn: (element: T) => U | Promise<U>): Dataset<U> {
    if (typeof fn !== 'function') throw new ValueError(`map: fn must be a function; received ${typeof fn}`);
    const source = iterable(this.open);
    return new Dataset<U>({
      size: this.size,
      open: async function* () {
        for await (const element of source) yield await fn(element);
      },
    });
  }

  /** Keeps the elements for which pred (sync or async) is true; the size becomes unknown. */
  filter(pred: (element: T) => boolean | Promise<boolean>): Dataset<T> {
    if (typeof pred !== 'function') throw new ValueError(`filter: pred must be a function; received ${typeof pred}`);
    const source = iterable(this.open);
    return new Dataset<T>({
      size: null,
      open: async function* () {
        for await (const element of source) if (await pred(element)) yield element;
      },
    });
  }

  /** The first n elements. */
  take(n: number): Dataset<T> {
    checkCount('take', 'n', n, 0);
    const size = this.size === null ? null : Math.min(this.size, n);
    const view = this.withRows(size, (source) => () => takeSync(source(), n));
    if (view !== null) return view;
    const source = this.open;
    return new Dataset<T>({
      size,
      open: async function* () {
        if (n === 0) return;
        let count = 0;
        for await (const element of iterable(source)) {
          yield element;
          if (++count >= n) return;
        }
      },
    });
  }

  /** All but the first n elements. */
  skip(n: number): Dataset<T> {
    checkCount('skip', 'n', n, 0);
    const size = this.size === null ? null : Math.max(this.size - n, 0);
    const view = this.withRows(size, (source) => () => skipSync(source(), n));
    if (view !== null) return view;
    const source = this.open;
    return new Dataset<T>({
      size,
      open: async function* () {
        let count = 0;
        for await (const element of iterable(source)) if (count++ >= n) yield element;
      },
    });
  }

  /** Repeats the dataset count times, or forever without a count; each pass re-reads the source. */
  repeat(count?: number): Dataset<T> {
    const passes = count === undefined ? Infinity : checkCount('repeat', 'count', count, 0);
    const size = this.size === null ? null : this.size === 0 || passes === 0 ? 0 : this.size * passes;
    const view = this.withRows(size, (source) => () => repeatSync(source, passes));
    if (view !== null) return view;
    const source = this.open;
    return new Dataset<T>({
      size,
      open: async function* () {
        for (let pass = 0; pass < passes; pass++) {
          let any = false;
          for await (const element of iterable(source)) {
            any = true;
            yield element;
          }
          if (!any) return; // an empty source must not spin forever
        }
      },
    });
  }

  /**
   * Shuffles through a buffer of bufferSize elements (tf.data semantics): a bufferSize at least
   * the dataset's size gives a uniform permutation; smaller buffers shuffle locally.
   */
  shuffle(bufferSize: number, options: ShuffleOptions = {}): Dataset<T> {
    checkCount('shuffle', 'bufferSize', bufferSize, 1);
    checkKeys('shuffle', options, ['seed', 'reshuffleEachIteration']);
    const { seed, reshuffleEachIteration = true } = options;
    if (seed !== undefined && (typeof seed !== 'number' || !Number.isInteger(seed))) {
      throw new ValueError(`shuffle: seed must be an integer; received ${JSON.stringify(seed)}`);
    }
    if (typeof reshuffleEachIteration !== 'boolean') {
      throw new ValueError(`shuffle: reshuffleEachIteration must be a boolean; received ${JSON.stringify(reshuffleEachIteration)}`);
    }
    const nextKey = shuffleKeys(seed, reshuffleEachIteration);
    const view = this.withRows(this.size, (source) => () => shuffleSync(source(), bufferSize, new HostRandom(nextKey())));
    if (view !== null) return view;
    const source = this.open;
    return new Dataset<T>({
      size: this.size,
      open: () => shuffleAsync(source(), bufferSize, new HostRandom(nextKey())),
    });
  }

  /** Groups n consecutive elements into one, stacking each tensor leaf along a new first axis. */
  batch(n: number, options: BatchOptions = {}): Dataset<Batched<T>> {
    checkCount('batch', 'n', n, 1);
    checkKeys('batch', options, ['dropRemainder']);
    const { dropRemainder = false } = options;
    if (typeof dropRemainder !== 'boolean') throw new ValueError(`batch: dropRemainder must be a boolean; received ${JSON.stringify(dropRemainder)}`);
    const size = this.size === null ? null : dropRemainder ? Math.floor(this.size / n) : Math.ceil(this.size / n);
    const rows = this.rows;
    if (rows !== undefined) {
      // Note [Row views]: one gather per array and batch.
      const cut = (indices: number[]) => gatherRows(rows.arrays, tensor(Int32Array.from(indices))) as Batched<T>;
      return new Dataset<Batched<T>>({
        size,
        open: async function* () {
          let pending: number[] = [];
          for (const i of { [Symbol.iterator]: rows.indices }) {
            pending.push(i);
            if (pending.length === n) {
              yield cut(pending);
              pending = [];
            }
          }
          if (pending.length > 0 && !dropRemainder) yield cut(pending);
        },
      });
    }
    const source = this.open;
    return new Dataset<Batched<T>>({
      size,
      open: async function* () {
        let pending: T[] = [];
        for await (const element of iterable(source)) {
          pending.push(element);
          if (pending.length === n) {
            yield stackElements('batch', pending) as Batched<T>;
            pending = [];
          }
        }
        if (pending.length > 0 && !dropRemainder) yield stackElements('batch', pending) as Batched<T>;
      },
    });
  }

  /**
   * Produces up to bufferSize elements ahead of the consumer: the pull of element k+1 starts
   * before element k is handed out, so an async producer and the consumer overlap.
   */
  prefetch(bufferSize = 1): Dataset<T> {
    checkCount('prefetch', 'bufferSize', bufferSize, 1);
    const source = this.open;
    return new Dataset<T>({
      size: this.size,
      open: async function* () {
        const it = source();
        const queue: Promise<IteratorResult<T>>[] = [];
        let finished = false;
        const pull = () => {
          const p = it.next();
          // A failure surfaces when its turn comes; until then it must not count as unhandled.
          p.catch(() => undefined);
          queue.push(p);
        };
        try {
          for (let i = 0; i < bufferSize; i++) pull();
          for (;;) {
            const r = await queue.shift()!;
            if (r.done) {
              finished = true;
              return;
            }
            pull();
            yield r.value;
          }
        } finally {
          if (!finished) await it.return?.();
        }
      },
    });
  }

  /** Reads every element into an array (refuses an infinite dataset). */
  async toArray(): Promise<T[]> {
    if (this.size === Infinity)
      throw new ValueError('toArray: the dataset is infinite (repeat() without a count); received size Infinity; use take(n) first');
    const out: T[] = [];
    for await (const element of this) out.push(element);
    return out;
  }

  /** Calls fn on each element in order, awaiting it before the next. */
  async forEachAsync(fn: (element: T) => void | Promise<void>): Promise<void> {
    if (typeof fn !== 'function') throw new ValueError(`forEachAsync: fn must be a function; received ${typeof fn}`);
    for await (const element of this) await fn(element);
  }
}
