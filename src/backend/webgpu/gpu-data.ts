import type { DType, TypedArray } from '../../core/dtype.js';
import type { BinaryPrimitive, UnaryPrimitive } from '../primitives.js';

/**
 * What a GpuData owns, kept apart from it so the garbage collector's finalizer can free the
 * storage of a GpuData it found dead (the finalizer gets this, never the GpuData itself).
 */
export interface GpuCell {
  /** The values, once computed. */
  buffer: GPUBuffer | undefined;
  /** The pending elementwise computation while not yet computed (Note [Fused elementwise chains]). */
  expr: Expr | undefined;
  /** The computed inputs a pending `expr` reads; each holds one ownership for this cell. */
  leaves: GpuData[];
  freed: boolean;
  /** The values as uploaded, for small uploads (Backend.peek: index checks without a read). */
  host?: TypedArray;
  /** The bytes st.memory() counts for a pending storage that has owners (no buffer yet). */
  pendingBytes?: number;
}

/**
 * One tensor storage on the GPU: a buffer, or an elementwise expression over other storages not
 * yet computed. Shared by the tensors that own it (reshape returns its input's storage);
 * `owners` counts them, and pending expressions count as owners of their leaves.
 */
export class GpuData {
  owners = 0;
  /** How many pending expressions have copied this one's expression into theirs. */
  inlined = 0;
  constructor(
    readonly cell: GpuCell,
    readonly size: number,
    readonly dtype: DType,
  ) {}

  get freed(): boolean {
    return this.cell.freed;
  }
}

/** A pending elementwise computation over computed storages (Note [Fused elementwise chains] in fusion.ts). */
export type Expr =
  | { k: 'leaf'; dtype: DType; data: GpuData; outShape: readonly number[]; inShape: readonly number[] | null }
  | { k: 'const'; dtype: DType; value: number }
  | { k: 'unary'; dtype: DType; op: UnaryPrimitive; a: Expr }
  | { k: 'binary'; dtype: DType; op: BinaryPrimitive; a: Expr; b: Expr }
  | { k: 'cast'; dtype: DType; a: Expr }
  | { k: 'where'; dtype: DType; c: Expr; a: Expr; b: Expr }
  | { k: 'reluGrad'; dtype: DType; a: Expr; b: Expr };
