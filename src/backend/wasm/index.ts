import { bytesPerElement, toTypedArray, type DType, type TypedArray } from '../../core/dtype.js';
import { fillRandom, type Distribution, type RandomStream } from '../../core/rng.js';
import { sizeOf, type Shape } from '../../core/shape.js';
import type { Backend, CoreKernels, DataHandle, MemoryInfo, OptionalKernels } from '../backend.js';
import { getNumThreads, registerBackend } from '../registry.js';
import { coreKernels, type CoreContext } from './kernels-core.js';
import { recurrentKernels } from './kernels-recurrent.js';
import { matmulKernels } from './kernels-matmul.js';
import { convKernels } from './kernels-conv.js';
import { poolKernels } from './kernels-pool.js';
import { softmaxKernels } from './kernels-softmax.js';
import { normKernels } from './kernels-norm.js';
import { wasmOptimizerUpdate } from './kernels-optim.js';
import { WasmHeap } from './heap.js';
import { threadsSupported, wasmModule } from './module.js';
import { WA, type ExportFn, type WasmGlobal, type WasmMemory } from './wasm-api.js';
import { ThreadPool, type WorkerFactory } from './threads.js';

// Note [WASM backend]
// Kernels in C (wasm/src/*.c) compiled by clang to one wasm32 module with 128-bit SIMD, no libc
// (scripts/build-wasm.mjs); the binaries ship as base64 in binary.gen.ts so Node and a browser
// bundle load them alike, with no file access and no node: imports under this folder.
//   Storage: each tensor's values live in the module's linear memory at a 64-byte-aligned pointer
//   from heap.ts's size-class allocator. A handle {ptr, bytes, owners} is shared by the tensors
//   that own it (reshape returns its input's handle; the Tensor constructor retains, dispose()
//   releases) and its block goes back to the allocator with the last owner, or when the garbage
//   collector finds the handle unreachable (a FinalizationRegistry, whose callbacks run between
//   tasks, or at once where a collection hook is set: Note [Freeing dead storage synchronously]).
//   Memory growth: the allocator grows the memory by at least an eighth when the bump pointer
//   reaches the end; growing replaces (non-shared) or extends (shared) memory.buffer, so kernels
//   take fresh typed-array views after their last allocation and never keep one. Growing past the
//   limit throws a RangeError naming the bytes asked for.
//   Threads: with SharedArrayBuffer (Node; pages only when cross-origin isolated) the module is the
//   threaded build over a shared memory, with N-1 workers from an injected factory (threads.ts);
//   kernels split their outer loop by (tid, nthreads). Until the workers report ready, and for
//   work below a threshold, kernels run on the calling thread alone; results do not depend on the
//   thread count (each output element is computed by one thread in the same order).
//   Dtypes: float32, int32 and bool (one byte, 0 or 1), as the native backend; no float64.
//   float32 sum and prod accumulate in double; int32 arithmetic wraps and int32 sum and prod are
//   refused on overflow, as in the reference backend (Note [int32 reductions]).

const SCRATCH_BYTES = 16384;
const PAGE = 65536;

interface StorageRecord {
  ptr: number;
  bytes: number;
  freed: boolean;
}

/** One storage block; `owners` counts the tensors holding it (Note [WASM backend]). */
class WasmStorage {
  owners = 0;
  constructor(readonly record: StorageRecord) {}
  get ptr(): number {
    if (this.record.freed) throw new Error('wasm backend: storage used after it was released');
    return this.record.ptr;
  }
}

/**
 * The module's memory: shared for the threaded module, with `maxPages` as its maximum, or less
 * where the engine will not reserve that much address space for a shared memory (a 32-bit or
 * memory-starved browser), halving down to 256 MiB, then unshared (one thread) as the last resort.
 */
function makeMemory(shared: boolean, maxPages: number): [WasmMemory, number] {
  const initial = Math.min(32, maxPages);
  if (shared) {
    for (let pages = maxPages; pages >= Math.min(maxPages, 4096); pages = Math.floor(pages / 2)) {
      try {
        return [new WA.Memory({ initial, maximum: pages, shared: true }), pages];
      } catch {
        // a RangeError: try a smaller reservation
      }
    }
  }
  return [new WA.Memory({ initial, maximum: maxPages }), maxPages];
}

export interface WasmBackendOptions {
  /** Use the threaded module when the environment allows it (default true). */
  threads?: boolean;
  /** The most bytes the WebAssembly memory may grow to (default 2 GiB). */
  maxBytes?: number;
}

let workerFactory: WorkerFactory | undefined;
let makeCollector: (() => WasmCollector | undefined) | undefined;

/**
 * A synchronous garbage collection: `collect()` runs a full collection and `Registry` makes
 * FinalizationRegistry objects with `cleanupSome()` (V8 with --harmony-weak-refs-with-cleanup-some),
 * so storage of tensors the collector found dead is freed at once, inside a synchronous loop
 * (Note [Freeing dead storage synchronously]). gc-node.ts makes one for Node.
 */
export interface WasmCollector {
  collect(): void;
  Registry: FinalizationRegistryConstructor;
}

/**
 * Sets how the wasm backend gets its collection hook (called when the backend is created, so a
 * program that never uses the backend pays nothing; gc-node.ts's nodeCollector for Node).
 */
export function setWasmCollector(make: (() => WasmCollector | undefined) | undefined): void {
  makeCollector = make;
}

// Note [Freeing dead storage synchronously]
// A tensor that is never disposed gives its block back when the garbage collector finds its
// handle dead, through a FinalizationRegistry, whose callbacks run only between tasks: a
// synchronous loop (a test's training steps, a benchmark) would grow the memory to its limit
// first. V8 knows nothing of the pressure either: a handle is a few bytes of JavaScript heap.
// So, where a collection hook is set (Node), the heap asks for a collection before growing the
// memory, once at least RECLAIM_BYTES (or an eighth of the memory) were handed out since the
// last one, and cleanupSome() runs the callbacks right there, refilling the free lists; and
// afterBackward() does the same when live storage grew by RECLAIM_BYTES since the last look (as
// Note [Collecting dead tensors between steps] for the native backend). Without a hook (a
// browser) storage comes back on dispose() or between tasks.
const RECLAIM_BYTES = 64 * 2 ** 20;

/**
 * Sets how the wasm backend starts its worker threads: a function from the worker's source text
 * to a Worker-like object (workers-node.ts and workers-browser.ts have the two usual ones).
 * Without one, the backend runs single-threaded.
 */
export function setWasmWorkerFactory(factory: WorkerFactory | undefined): void {
  workerFactory = factory;
}

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly kernels: CoreKernels & OptionalKernels;
  readonly memoryObject: WasmMemory;
  readonly exports: Record<string, ExportFn>;
  private readonly heap: WasmHeap;
  private readonly scratch: number;
  private readonly pool: ThreadPool | undefined;
  private live = { buffers: 0, bytes: 0 };
  private readonly registry: FinalizationRegistry<StorageRecord> & { cleanupSome?: () => void };
  private readonly collector = makeCollector?.();
  private baseline = 0;
  readonly threaded: boolean;

  constructor(options: WasmBackendOptions = {}) {
    const maxBytes = Math.min(options.maxBytes ?? 2 ** 31, 2 ** 31);
    const [memory, maxPages] = makeMemory((options.threads ?? true) && threadsSupported(), Math.floor(maxBytes / PAGE));
    this.memoryObject = memory;
    this.threaded = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const module = wasmModule(this.threaded ? 'threads' : 'single');
    const instance = new WA.Instance(module, { env: { memory: this.memoryObject } });
    this.exports = instance.exports as unknown as Record<string, ExportFn>;
    const heapBase = (instance.exports.__heap_base as WasmGlobal).value;
    this.heap = new WasmHeap(this.memoryObject, heapBase, maxPages * PAGE);
    this.registry = new (this.collector?.Registry ?? FinalizationRegistry)<StorageRecord>((record) => this.freeRecord(record));
    this.heap.reclaim = (force) => this.reclaim(force);
    this.scratch = this.heap.alloc(SCRATCH_BYTES);
    if (this.threaded && workerFactory) {
      // The cores: navigator.hardwareConcurrency where there is one (browsers, Node 21+), else the
      // registry's default (Node 20's os.availableParallelism unless set already), at most 64.
      const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
      const cores = nav?.hardwareConcurrency ?? Math.min(getNumThreads(), 64);
      this.pool = new ThreadPool(module, this.memoryObject, this.exports, this.heap, workerFactory, getNumThreads(), cores);
    }
    const ctx = this.context();
    this.kernels = {
      ...coreKernels(ctx),
      ...matmulKernels(ctx),
      ...convKernels(ctx),
      ...poolKernels(ctx),
      ...softmaxKernels(ctx),
      ...normKernels(ctx),
      ...recurrentKernels(ctx),
    };
    Object.assign(this, { optimizerUpdate: wasmOptimizerUpdate(ctx) });
  }

  private context(): CoreContext {
    const mem = () => this.memoryObject.buffer;
    return {
      exports: this.exports,
      alloc: (bytes) => this.heap.alloc(bytes),
      free: (ptr) => this.heap.free(ptr),
      newStorage: (dtype, size) => {
        const handle = this.allocate(size * bytesPerElement(dtype));
        return { handle, ptr: handle.ptr };
      },
      ptrOf: (data) => (data as WasmStorage).ptr,
      f32: (ptr, size) => new Float32Array(mem(), ptr, size),
      i32: (ptr, size) => new Int32Array(mem(), ptr, size),
      u8: (ptr, size) => new Uint8Array(mem(), ptr, size),
      parallel: (kernel, args, work) => {
        if (this.pool) this.pool.run(kernel, args, work);
        else (this.exports[kernel] as (...a: number[]) => unknown)(...args, 0, 1);
      },
      ints: (...arrays) => {
        const total = arrays.reduce((n, a) => n + a.length, 0);
        if (total * 4 > SCRATCH_BYTES) throw new Error(`wasm backend: ${total} shape entries exceed the scratch block`);
        const view = new Int32Array(mem(), this.scratch, total);
        const ptrs: number[] = [];
        let at = 0;
        for (const a of arrays) {
          ptrs.push(this.scratch + at * 4);
          view.set(a, at);
          at += a.length;
        }
        return ptrs;
      },
      drop: (handle) => this.releaseNow(handle as WasmStorage),
    };
  }

  private allocate(bytes: number): WasmStorage {
    const record = { ptr: this.heap.alloc(bytes), bytes, freed: false };
    const handle = new WasmStorage(record);
    this.live.buffers++;
    this.live.bytes += bytes;
    this.registry.register(handle, record, handle);
    return handle;
  }

  /** Note [Freeing dead storage synchronously]; returns whether a collection ran. */
  private reclaim(force: boolean): boolean {
    const cleanup = this.registry.cleanupSome;
    if (!this.collector || !cleanup) return false;
    if (!force && this.heap.sinceReclaim < Math.max(RECLAIM_BYTES, this.memoryObject.buffer.byteLength / 8)) return false;
    this.collector.collect();
    cleanup.call(this.registry);
    this.heap.sinceReclaim = 0;
    return true;
  }

  afterBackward(): boolean {
    if (this.live.bytes < this.baseline) this.baseline = this.live.bytes;
    if (this.live.bytes - this.baseline < RECLAIM_BYTES) return false;
    const ran = this.reclaim(true);
    this.baseline = this.live.bytes;
    return ran;
  }

  private freeRecord(record: StorageRecord): void {
    if (record.freed) return;
    record.freed = true;
    this.heap.free(record.ptr);
    this.live.buffers--;
    this.live.bytes -= record.bytes;
  }

  private releaseNow(handle: WasmStorage): void {
    this.registry.unregister(handle);
    this.freeRecord(handle.record);
  }

  supportsDtype(dtype: DType): boolean {
    return dtype !== 'float64';
  }

  upload(values: TypedArray, dtype: DType): DataHandle {
    const exact = (dtype === 'float32' && values instanceof Float32Array) || (dtype === 'int32' && values instanceof Int32Array);
    const src = exact ? values : toTypedArray(values, dtype);
    const handle = this.allocate(src.byteLength);
    new Uint8Array(this.memoryObject.buffer, handle.ptr, src.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
    return handle;
  }

  download(data: DataHandle, dtype: DType, size: number): TypedArray {
    const ptr = (data as WasmStorage).ptr;
    const buf = this.memoryObject.buffer;
    switch (dtype) {
      case 'float32':
        return new Float32Array(buf, ptr, size).slice();
      case 'int32':
        return new Int32Array(buf, ptr, size).slice();
      default:
        return new Uint8Array(buf, ptr, size).slice();
    }
  }

  fill(shape: Shape, dtype: DType, value: number): DataHandle {
    const n = sizeOf(shape);
    const handle = this.allocate(n * bytesPerElement(dtype));
    const buf = this.memoryObject.buffer;
    const view =
      dtype === 'float32'
        ? new Float32Array(buf, handle.ptr, n)
        : dtype === 'int32'
          ? new Int32Array(buf, handle.ptr, n)
          : new Uint8Array(buf, handle.ptr, n);
    view.fill(value);
    return handle;
  }

  random(shape: Shape, dtype: DType, stream: RandomStream, dist: Distribution): DataHandle {
    // Generated on the host by the same function as the reference backend, so seeds reproduce.
    const n = sizeOf(shape);
    const values = dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
    fillRandom(values, stream, dist);
    return this.upload(values, dtype);
  }

  retain(data: DataHandle): void {
    (data as WasmStorage).owners++;
  }

  release(data: DataHandle): void {
    const s = data as WasmStorage;
    if (--s.owners <= 0) this.releaseNow(s);
  }

  /** Live storage, plus the heap's cached bytes and the memory's size. */
  memory(): MemoryInfo & { cachedBytes: number; heapBytes: number } {
    const h = this.heap.stats();
    return { buffers: this.live.buffers, bytes: this.live.bytes, cachedBytes: h.cachedBytes, heapBytes: h.memoryBytes };
  }

  setNumThreads(n: number): void {
    this.pool?.setThreads(n);
  }

  /** The mode st.backends() shows: SIMD always, and the threads in use. */
  describe(): string {
    if (this.pool) return `simd, ${this.pool.threads} thread${this.pool.threads === 1 ? '' : 's'}`;
    if (!this.threaded) return `simd, 1 thread (${threadsSupported() ? 'threads off' : 'no SharedArrayBuffer'})`;
    return 'simd, 1 thread (no worker factory)';
  }
}

/** Registers the wasm backend under 'wasm' at priority 5 (between native, 10, and reference, 0). */
export function registerWasmBackend(): void {
  registerBackend('wasm', () => new WasmBackend(), 5);
}

export { initWasm } from './module.js';
export type { WorkerFactory, WorkerLike } from './threads.js';
