// The wasm backend's allocator: JavaScript bookkeeping over the module's linear memory (Note [WASM
// backend] in index.ts). Blocks are 64-byte aligned and come in size classes (four per power of
// two), so a training step's tensors of recurring shapes reuse each other's blocks; a freed block
// waits on its class's free list, and only when no list has one does the bump pointer move,
// growing the memory when it reaches the end. Wasm memory never shrinks, so what it grew to is
// kept (reported as cachedBytes while free). Blocks are not merged as they are freed (freeing is
// a push); only when the memory cannot grow are adjacent freed blocks merged for a request.

import type { WasmMemory } from './wasm-api.js';

const PAGE = 65536;
const ALIGN = 64;

/** The class a request of `bytes` is served from: 64-byte multiples up to 1 KiB, then 2^k·{1, 1.25, 1.5, 1.75}. */
export function sizeClass(bytes: number): number {
  if (bytes <= 1024) return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  const quarter = 2 ** (Math.floor(Math.log2(bytes)) - 2);
  return Math.ceil(bytes / quarter) * quarter;
}

export interface HeapStats {
  /** Blocks handed out and not freed. */
  blocks: number;
  /** Their bytes (size classes, not requests). */
  usedBytes: number;
  /** Bytes in freed blocks kept for reuse. */
  cachedBytes: number;
  /** The linear memory's current size. */
  memoryBytes: number;
}

export class WasmHeap {
  private top: number;
  private readonly sizes = new Map<number, number>(); // live block -> class
  private readonly freeLists = new Map<number, number[]>(); // class -> freed blocks
  private used = 0;
  private cached = 0;
  /** Bytes handed out since the last reclaim (see `reclaim`). */
  sinceReclaim = 0;
  /**
   * Called before the memory grows (and, forced, before giving up): may free dead storage
   * synchronously (the backend's garbage collection hook) and returns whether it ran, in which
   * case the free lists are tried again.
   */
  reclaim: ((force: boolean) => boolean) | undefined;

  /** `base`: the first byte above the module's data and stack; `maxBytes`: the memory's maximum. */
  constructor(
    readonly memory: WasmMemory,
    base: number,
    readonly maxBytes: number,
  ) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    let cls = size;
    let ptr = this.fromList(size) ?? this.bump(size, false);
    if (ptr === undefined && this.reclaim?.(false)) ptr = this.fromList(size) ?? this.bump(size, false);
    ptr ??= this.bump(size, true);
    if (ptr === undefined) {
      this.reclaim?.(true);
      [ptr, cls] = this.fallback(size, bytes);
    }
    this.sinceReclaim += cls;
    this.sizes.set(ptr, cls);
    this.used += cls;
    return ptr;
  }

  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`wasm backend: free of pointer ${ptr}, which is not a live block`);
    this.sizes.delete(ptr);
    this.used -= size;
    this.cache(ptr, size);
  }

  /** Puts a block of `size` bytes on the free list of that size. */
  private cache(ptr: number, size: number): void {
    this.cached += size;
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(ptr);
  }

  stats(): HeapStats {
    return { blocks: this.sizes.size, usedBytes: this.used, cachedBytes: this.cached, memoryBytes: this.memory.buffer.byteLength };
  }

  /** Removes one freed block from its list (for coalescing). */
  private take(ptr: number, cls: number): void {
    const list = this.freeLists.get(cls)!;
    list.splice(list.lastIndexOf(ptr), 1);
    this.cached -= cls;
  }

  private fromList(size: number): number | undefined {
    const ptr = this.freeLists.get(size)?.pop();
    if (ptr !== undefined) this.cached -= size;
    return ptr;
  }

  private bump(size: number, grow: boolean): number | undefined {
    const end = this.top + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      if (!grow) return undefined;
      // Grow by at least an eighth of the memory, so that a growing workload grows it rarely.
      const need = Math.ceil((end - have) / PAGE);
      const pages = Math.min(Math.max(need, Math.ceil(have / PAGE / 8)), Math.floor((this.maxBytes - have) / PAGE));
      if (end > this.maxBytes || (!this.tryGrow(pages) && !this.tryGrow(need))) return undefined;
    }
    const ptr = this.top;
    this.top = end;
    return ptr;
  }

  private tryGrow(pages: number): boolean {
    if (pages <= 0) return false;
    try {
      this.memory.grow(pages);
      return true;
    } catch {
      return false; // RangeError: the engine refused (limit or no address space)
    }
  }

  // Out of memory to grow into: freed blocks at the top go back to the bump region; then the first
  // run of adjacent freed blocks (or one larger block) big enough is split, the rest kept cached.
  private fallback(size: number, requested: number): [number, number] {
    const again = this.fromList(size);
    if (again !== undefined) return [again, size];
    const cached = [...this.freeLists].flatMap(([cls, list]) => list.map((ptr): [number, number] => [ptr, cls])).sort((a, b) => a[0] - b[0]);
    while (cached.length && cached[cached.length - 1][0] + cached[cached.length - 1][1] === this.top) {
      const [ptr, cls] = cached.pop()!;
      this.take(ptr, cls);
      this.top = ptr;
    }
    const bumped = this.bump(size, true);
    if (bumped !== undefined) return [bumped, size];
    for (let i = 0; i < cached.length; i++) {
      let span = cached[i][1],
        j = i + 1;
      while (span < size && j < cached.length && cached[j][0] === cached[i][0] + span) span += cached[j++][1];
      if (span >= size) {
        for (let k = i; k < j; k++) this.take(cached[k][0], cached[k][1]);
        // The rest of the run stays cached as one block of its own size (a multiple of 64).
        if (span > size) this.cache(cached[i][0] + size, span - size);
        return [cached[i][0], size];
      }
    }
    throw new RangeError(
      `wasm backend: out of memory allocating ${requested} bytes: the heap holds ${this.used} bytes in use and ${this.cached} cached, ` +
        `and the WebAssembly memory cannot grow past ${this.memory.buffer.byteLength} bytes (limit ${this.maxBytes} bytes); dispose() tensors no longer needed`,
    );
  }
}
