import type { DType } from '../../core/dtype.js';
import type { TensorInfo } from '../backend.js';
import type { GpuData } from './gpu-data.js';
import type { GpuQueue } from './gpu-queue.js';

/** What a kernel family (kernels-*.ts) gets from the backend. */
export interface GpuContext {
  /** The buffer holding an input's values (a pending elementwise chain is computed first). */
  input(t: TensorInfo): GPUBuffer;
  /** New storage for `size` elements of `dtype`, and its buffer for the kernel to write. */
  output(dtype: DType, size: number): { data: GpuData; buffer: GPUBuffer };
  /**
   * A scratch buffer of at least `bytes` for intermediate results between a kernel's dispatches
   * (a two-pass reduction's partial sums). Give it back with `releaseScratch` right after the
   * dispatches that use it are recorded: later dispatches run after them (Note [GPU buffer pool]).
   */
  scratch(bytes: number): GPUBuffer;
  releaseScratch(buffer: GPUBuffer): void;
  /**
   * A buffer holding `values`, for numbers that change from call to call (a slice's start): bound
   * as an input instead of baked into the source, so a new value compiles no new pipeline. Give it
   * back with `releaseScratch` after the dispatch is recorded.
   */
  constants(values: Int32Array): GPUBuffer;
  /** Records a dispatch of `source` (Note [One encoder per step] in gpu-queue.ts). */
  run(source: string, inputs: readonly GPUBuffer[], outputs: readonly GPUBuffer[], groups: readonly [number, number, number]): void;
  /** The device's limits, for kernels that size workgroups or tiles by them. */
  readonly limits: GPUSupportedLimits;
  readonly queue: GpuQueue;
}
