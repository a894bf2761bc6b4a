import type { MemoryInfo } from './backend/backend.js';
import { backends as listBackends, findBackend } from './backend/registry.js';

/** What one backend holds, as `st.memory()` reports it. */
export interface BackendMemory {
  /**
   * Live tensor storages. Tensors that share storage (a reshape, a variable made from a tensor)
   * count once; counting every Tensor object would need a finalizer per tensor, which costs
   * more than a small op.
   */
  tensors: number;
  /** The bytes of those storages. */
  bytes: number;
  /**
   * Freed storage the backend keeps for reuse, bytes (native: the caching allocator, which gives
   * back what the program has stopped using).
   */
  cachedBytes?: number;
  /**
   * The size of the backend's WebAssembly memory, bytes (wasm): it only grows, to the most the
   * program has held at once; storage freed inside it is reused.
   */
  heapBytes?: number;
  /**
   * Compiled kernels kept per shape and attributes (native: oneDNN primitives, one entry per
   * matmul, convolution or recurrent shape seen lately) and the bound the oldest are dropped at.
   * Their bytes are not reported: oneDNN does not tell.
   */
  primitiveCache?: {
    /** Kernels kept now. */
    entries: number;
    /** The most kept before the oldest are dropped. */
    capacity: number;
  };
  /**
   * Convolution filters kept in the layout the backend's kernels want (native), so inference does
   * not reorder them on every call; a copy goes when its filter is freed or updated. Not counted
   * in `tensors` or `bytes`.
   */
  reorderedFilters?: {
    /** Copies kept now. */
    entries: number;
    /** Their bytes. */
    bytes: number;
  };
}

/**
 * Live tensors and storage bytes per loaded backend, keyed by backend name. Storage is freed when
 * the garbage collector finds a tensor dead (or at `dispose()`), so the numbers fall after a
 * collection, not when a variable goes out of scope.
 * @example
 * ```ts
 * const before = st.memory();
 * const t = st.zeros([1000, 1000]);
 * console.log(st.memory(), before); // one more storage, 4 MB more on the active backend
 * t.dispose();
 * ```
 */
export function memory(): Record<string, BackendMemory> {
  const out: Record<string, BackendMemory> = {};
  for (const status of listBackends()) {
    const backend = status.available ? findBackend(status.name) : undefined;
    if (!backend) continue;
    // A backend may report its caches too (the native one does), beyond MemoryInfo's counts.
    const { buffers, bytes, cachedBytes, heapBytes, primitiveCache, reorderedFilters } = backend.memory() as MemoryInfo &
      Pick<BackendMemory, 'cachedBytes' | 'heapBytes' | 'primitiveCache' | 'reorderedFilters'>;
    out[status.name] = {
      tensors: buffers,
      bytes,
      ...(cachedBytes !== undefined && { cachedBytes }),
      ...(heapBytes !== undefined && { heapBytes }),
      ...(primitiveCache && { primitiveCache }),
      ...(reorderedFilters && { reorderedFilters }),
    };
  }
  return out;
}
