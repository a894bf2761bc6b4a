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
 * `arraySync()` returns.
 */
export type NestedArray = number | boolean | NestedArray[];

let nextId = 0;

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

  /** A flat copy of the values, in row-major order. */
  dataSync(): TypedArray {
    return this.backend.download(this.storage, this.dtype, this.size);
  }

  /** The flat values like `dataSync()`, as a promise (for code written for tfjs). */
  async data(): Promise<TypedArray> {
    return this.dataSync();
  }

  /** The values as nested arrays (booleans for bool tensors, a plain number for a scalar). */
  arraySync(): NestedArray {
    const flat = this.dataSync();
    const read = this.dtype === 'bool' ? (i: number) => flat[i] !== 0 : (i: number) => flat[i];
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.rank) return read(offset);
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** The nested values like `arraySync()`, as a promise (for code written for tfjs). */
  async array(): Promise<NestedArray> {
    return this.arraySync();
  }

  /** The number inside a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new ValueError(
        `item: only a one-element tensor can be converted to a number; received shape ${fmtShape(this.shape)} with ${this.size} elements`,
      );
    }
    return this.dataSync()[0];
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
    return formatTensor(this.dataSync(), this.shape, this.dtype);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
