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

export type NestedArray = number | boolean | NestedArray[];

let nextId = 0;

/**
 * An n-dimensional array on one backend. Tensors are immutable values: every op returns a new
 * tensor. Methods for the ops (`x.add(y)`) are installed by src/tensor-methods.ts.
 */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly backend: Backend;
  /** True for variables and for results computed from them while the tape records. */
  requiresGrad = false;
  /** The accumulated gradient of a variable after `backward()`. */
  grad: Tensor | null = null;
  /** The tape entry that produced this tensor; null for leaves. */
  node: GradNode | null = null;
  private handle: DataHandle | null;

  constructor(handle: DataHandle, shape: readonly number[], dtype: DType, backend: Backend) {
    this.handle = handle;
    this.shape = shape;
    this.dtype = dtype;
    this.backend = backend;
    backend.retain?.(handle);
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

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

  async array(): Promise<NestedArray> {
    return this.arraySync();
  }

  /** The number inside a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new ValueError(`item: only a one-element tensor can be converted to a number; received shape ${fmtShape(this.shape)} with ${this.size} elements`);
    }
    return this.dataSync()[0];
  }

  /**
   * Replaces this tensor's value in place, keeping its identity (how optimizers update
   * variables). Shape and dtype must match; the tape node, if any, is dropped.
   */
  assign(value: Tensor): void {
    if (!shapesEqual(value.shape, this.shape) || value.dtype !== this.dtype) {
      throw new ShapeError(`assign: expected a ${this.dtype} tensor of shape ${fmtShape(this.shape)}; received ${value.dtype} of shape ${fmtShape(value.shape)}`);
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

  toString(): string {
    if (this.isDisposed) return `Tensor(disposed, shape=${fmtShape(this.shape)}, dtype=${this.dtype})`;
    return formatTensor(this.dataSync(), this.shape, this.dtype);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
