import type { Backend, DataHandle } from '../backend/backend.js';
import type { Primitive } from '../backend/primitives.js';
import type { DType, TypedArray } from '../core/dtype.js';
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { shapesEqual, sizeOf } from '../core/shape.js';
import { formatTensor } from './format.js';

/** How a tensor was computed: the primitive, its inputs and attributes (the tape entry). */
export interface GradNode {
  readonly primitive: Primitive;
  readonly inputs: readonly Tensor[];
  readonly attrs: unknown;
}

/**
 * A number or boolean, or arrays of them nested to any depth: what `st.tensor` takes and
 * `await t.array()` returns.
 */
export type NestedArray = number | boolean | NestedArray[];

let nextId = 0;

/** The id the next tensor will get: tensors made after this call have ids at least this. */
export const nextTensorId = (): number => nextId;

/**
 * An n-dimensional array on one backend. Tensors are immutable values: every op returns a new
 * tensor. Methods for the ops (`x.add(y)`) are installed by src/tensor-methods.ts.
 */
export class Tensor {
  /** A number unique to this tensor in the process. */
  readonly id = nextId++;
  /** The size of each axis; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** The element type: float32, int32, bool, or float64 (reference backend only). */
  readonly dtype: DType;
  /** The backend that holds the storage; ops run on it. */
  readonly backend: Backend;
  /** True for variables and for results computed from them while the tape records. */
  requiresGrad = false;
  /** The accumulated gradient of a variable after `backward()`. */
  grad: Tensor | null = null;
  /**
   * The tape entry that produced this tensor (PyTorch's grad_fn); null for leaves.
   * @internal
   */
  node: GradNode | null = null;
  private handle: DataHandle | null;

  /** @internal Tensors come from st.tensor and the ops; this wraps storage a backend made. */
  constructor(handle: DataHandle, shape: readonly number[], dtype: DType, backend: Backend) {
    this.handle = handle;
    this.shape = shape;
    this.dtype = dtype;
    this.backend = backend;
    backend.retain?.(handle);
  }

  /** The number of axes (0 for a scalar). */
  get rank(): number {
    return this.shape.length;
  }

  /** The number of elements (1 for a scalar). */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Whether `dispose()` released the storage; a disposed tensor cannot be read or used in ops. */
  get isDisposed(): boolean {
    return this.handle === null;
  }

  /** The backend storage; throws when the tensor was disposed. */
  get storage(): DataHandle {
    if (this.handle === null) {
      throw new ValueError(`tensor of shape ${fmtShape(this.shape)} (${this.dtype}) was used after dispose()`);
    }
    return this.handle;
  }

  /**
   * A flat copy of the values, in row-major order, read synchronously: for CPU backends (native,
   * reference). `await t.data()` is the portable read.
   * @throws ValueError on a backend that reads asynchronously only (a GPU backend).
   */
  dataSync(): TypedArray {
    return this.backend.download(this.storage, this.dtype, this.checkSyncRead('dataSync', 'data'));
  }

  /**
   * The flat values, in row-major order, once the backend has them: the read that works on every
   * backend. On a CPU backend the promise is already settled; on a GPU backend the read waits for
   * the work queued before it, without blocking the page.
   * @example
   * ```ts
   * const x = st.tensor([[1, 2], [3, 4]]);
   * console.log(await x.data()); // Float32Array(4) [1, 2, 3, 4]
   * ```
   */
  async data(): Promise<TypedArray> {
    const storage = this.storage; // taken now: a dispose() after this call must not change what is read
    const { backend } = this;
    return backend.downloadAsync ? backend.downloadAsync(storage, this.dtype, this.size) : backend.download(storage, this.dtype, this.size);
  }

  /**
   * The values as nested arrays (booleans for bool tensors, a plain number for a scalar), read
   * synchronously: for CPU backends. `await t.array()` is the portable read.
   * @throws ValueError on a backend that reads asynchronously only.
   */
  arraySync(): NestedArray {
    this.checkSyncRead('arraySync', 'array');
    return this.nest(this.dataSync());
  }

  /**
   * The values as nested arrays (booleans for bool tensors, a plain number for a scalar): the
   * read that works on every backend.
   * @example
   * ```ts
   * console.log(await st.tensor([[1, 2], [3, 4]]).array()); // [[1, 2], [3, 4]]
   * ```
   */
  async array(): Promise<NestedArray> {
    return this.nest(await this.data());
  }

  /**
   * The number inside a one-element tensor, read synchronously (CPU backends); on every backend,
   * `(await t.data())[0]`.
   * @throws ValueError for more than one element, or on a backend that reads asynchronously only.
   */
  item(): number {
    if (this.size !== 1) {
      throw new ValueError(
        `item: only a one-element tensor can be converted to a number; received shape ${fmtShape(this.shape)} with ${this.size} elements`,
      );
    }
    this.checkSyncRead('item', 'data');
    return this.dataSync()[0];
  }

  /** Flat values as nested arrays of this tensor's shape. */
  private nest(flat: TypedArray): NestedArray {
    const read = this.dtype === 'bool' ? (i: number) => flat[i] !== 0 : (i: number) => flat[i];
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.rank) return read(offset);
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /**
   * The values when they can be had synchronously: a read on a backend that reads synchronously,
   * else the copy a GPU backend kept of what it uploaded; undefined when only `await t.data()`
   * would tell (checks on index tensors are then left to the kernels).
   * @internal
   */
  hostValues(): TypedArray | undefined {
    if (this.backend.readSync !== false) return this.dataSync();
    return this.backend.peek?.(this.storage);
  }

  /** The element count, after refusing a synchronous read on a backend that has none (Note [Reading values without stalling]). */
  private checkSyncRead(method: string, portable: 'data' | 'array'): number {
    if (this.backend.readSync === false) {
      throw new ValueError(
        `${method}: the '${this.backend.name}' backend reads values asynchronously only; use \`await t.${portable}()\` instead of t.${method}()`,
      );
    }
    return this.size;
  }

  /**
   * Replaces this tensor's value in place, keeping its identity (how optimizers update
   * variables). Shape and dtype must match; the tape node, if any, is dropped.
   */
  assign(value: Tensor): void {
    if (!shapesEqual(value.shape, this.shape) || value.dtype !== this.dtype) {
      throw new ShapeError(
        `assign: expected a ${this.dtype} tensor of shape ${fmtShape(this.shape)}; received ${value.dtype} of shape ${fmtShape(value.shape)}`,
      );
    }
    const next = value.backend === this.backend ? value.storage : this.backend.upload(value.dataSync(), value.dtype);
    this.backend.retain?.(next);
    if (this.handle !== null) this.backend.release(this.handle);
    this.handle = next;
    this.node = null;
  }

  /** Releases the storage now instead of waiting for the garbage collector. */
  dispose(): void {
    if (this.handle === null) return;
    this.backend.release(this.handle);
    this.handle = null;
    this.node = null;
    this.grad = null;
  }

  /** The values printed as nested rows (NumPy's style), with shape and dtype. */
  toString(): string {
    if (this.isDisposed) return `Tensor(disposed, shape=${fmtShape(this.shape)}, dtype=${this.dtype})`;
    // Printing must not throw where values cannot be read synchronously (console.log in a page).
    if (this.backend.readSync === false)
      return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}, backend=${this.backend.name}; await t.array() for values)`;
    return formatTensor(this.dataSync(), this.shape, this.dtype);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
