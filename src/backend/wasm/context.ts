import type { DType } from '../../core/dtype.js';
import type { DataHandle } from '../backend.js';

/**
 * What a kernel family of the wasm backend sees of the module (src/backend/wasm/kernels-*.ts):
 * the instance's exports, the heap, and the thread pool. Views are fresh on every call because
 * `memory.grow` detaches the previous ArrayBuffer: take them after the last alloc, never keep them.
 */
export interface WasmContext {
  /** The instance's exports (C functions marked EXPORT in wasm/src/*.c). */
  // biome-ignore lint/complexity/noBannedTypes: the exports are C functions of varied signatures
  readonly exports: Record<string, Function>;
  /** A pointer aligned to at least 16 bytes; throws a clear error when memory cannot grow. */
  alloc(bytes: number): number;
  free(ptr: number): void;
  /** Output storage of `size` elements of `dtype`, and its pointer. */
  newStorage(dtype: DType, size: number): { handle: DataHandle; ptr: number };
  /** The pointer of an input's storage. */
  ptrOf(data: DataHandle): number;
  /** Fresh views (valid until the next alloc or grow). */
  f32(ptr: number, size: number): Float32Array;
  i32(ptr: number, size: number): Int32Array;
  u8(ptr: number, size: number): Uint8Array;
  /**
   * Runs `exports[kernel](...args, tid, nthreads)` on every thread of the pool, or
   * `exports[kernel](...args, 0, 1)` on this one when `work` (about the number of elements
   * touched) is below the threading threshold or there are no workers.
   */
  parallel(kernel: string, args: number[], work: number): void;
}
