import { type DType, type TypedArray, toTypedArray } from '../../core/dtype.js';
import { StrataError, ValueError } from '../../core/errors.js';
import { type Distribution, type RandomStream, fillRandom } from '../../core/rng.js';
import { type Shape, sizeOf } from '../../core/shape.js';
import type { Backend, CoreKernels, DataHandle, MemoryInfo, OptionalKernels, TensorInfo } from '../backend.js';
import { registerAsyncBackend } from '../registry.js';
import { BufferPool } from './buffer-pool.js';
import type { GpuContext } from './context.js';
import { openDevice, type OpenedDevice } from './device.js';
import { fusedSource } from './fusion.js';
import { GpuData } from './gpu-data.js';
import { type GpuCounters, GpuQueue } from './gpu-queue.js';
import { convKernels } from './kernels-conv.js';
import { elementwiseKernels } from './kernels-elementwise.js';
import { matmulKernels } from './kernels-matmul.js';
import { movementKernels } from './kernels-movement.js';
import { normKernels } from './kernels-norm.js';
import { webgpuOptimizerUpdate } from './kernels-optim.js';
import { poolKernels } from './kernels-pool.js';
import { reduceKernels } from './kernels-reduce.js';
import { softmaxKernels } from './kernels-softmax.js';
import { sortKernels } from './kernels-sort.js';
import { grid } from './wgsl.js';

// Note [WebGPU backend]
// Kernels are WGSL generated per shape (shapes and constants are baked into the source and the
// pipeline cache is keyed by it), recorded into one command encoder per step (Note [One encoder
// per step]), over storage from a size-class pool (Note [GPU buffer pool]); elementwise ops are
// recorded as expressions and fused into one kernel when their values are needed (Note [Fused
// elementwise chains]). Reads are asynchronous only (`readSync: false`): `await t.data()` maps a
// staging buffer; dataSync() throws. Dtypes: float32, int32 and bool, each stored as 32 bits; no
// float64 (WGSL has none). Integer overflow wraps (a GPU cannot stop to refuse it), and a
// float-to-int32 cast saturates.
//   Storage is freed when its last owning tensor is disposed, or when the garbage collector finds
// it dead (a FinalizationRegistry; with the Node entry's collection hook, afterBackward collects
// once live bytes grew by RECLAIM_BYTES, as the wasm backend does).

const RECLAIM_BYTES = 64 * 2 ** 20;
/** Uploads up to this many elements keep a host copy (peek): batches' row indices, labels, small constants. */
const HOST_COPY_ELEMENTS = 65536;

/** A collection hook (the wasm backend's WasmCollector has the same shape). */
export interface GpuCollector {
  collect(): void;
  Registry: FinalizationRegistryConstructor;
}

let makeCollector: (() => GpuCollector | undefined) | undefined;

/** Sets the garbage-collection hook (Node's, from gc-node.ts); see Note [WebGPU backend]. */
export function setWebGpuCollector(make: (() => GpuCollector | undefined) | undefined): void {
  makeCollector = make;
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly readSync = false;
  readonly kernels: CoreKernels & OptionalKernels;
  readonly device: GPUDevice;
  readonly queue: GpuQueue;
  readonly pool: BufferPool;
  readonly maxBindings: number;
  /** Held for the device's lifetime (OpenedDevice.gpu says why). */
  private readonly opened: OpenedDevice;
  private readonly collector = makeCollector?.();
  private readonly registry: FinalizationRegistry<GpuData['cell']> & { cleanupSome?: () => void };
  private live = { buffers: 0, bytes: 0 };
  /** Pending chains tensors own (retain), counted by st.memory() until computed or freed. */
  private pending = { storages: 0, bytes: 0 };
  private baseline = 0;
  private lost: string | undefined;
  /** Errors the GPU reported since the last read (the uncapturederror handler above). */
  private gpuErrors: string[] = [];

  constructor(opened: OpenedDevice) {
    this.opened = opened;
    this.device = opened.device;
    this.pool = new BufferPool(this.device);
    // A validation or compile error is a bug in a kernel here, not in the user's program: say so
    // once per message, and fail the next read, whose values the failed kernel would have left
    // unwritten (zeros, or the last values a reused buffer held) rather than return them.
    const reported = new Set<string>();
    const gpuError = (message: string) => {
      if (!reported.has(message)) console.error(`strata webgpu backend: the GPU reported an error (please report it): ${message}`);
      reported.add(message);
      this.gpuErrors.push(message);
    };
    this.device.onuncapturederror = (ev) => gpuError((ev as unknown as { error: { message: string } }).error.message);
    this.queue = new GpuQueue(this.device, this.pool, gpuError);
    this.maxBindings = Math.min(this.device.limits.maxStorageBuffersPerShaderStage, 16);
    this.registry = new (this.collector?.Registry ?? FinalizationRegistry)<GpuData['cell']>((cell) => this.freeCell(cell));
    void this.device.lost.then((info) => {
      this.lost = info.message || info.reason;
    });
    const ctx = this.context();
    this.kernels = {
      ...elementwiseKernels(this),
      reshape: ([x]) => x.data,
      ...movementKernels(ctx),
      ...reduceKernels(ctx),
      ...matmulKernels(ctx),
      ...convKernels(ctx),
      ...poolKernels(ctx),
      ...softmaxKernels(ctx),
      ...normKernels(ctx),
      ...sortKernels(ctx),
    } as CoreKernels & OptionalKernels;
    const update = webgpuOptimizerUpdate(ctx);
    if (update) Object.assign(this, { optimizerUpdate: update });
  }

  context(): GpuContext {
    return {
      input: (t: TensorInfo) => this.materialize(t.data as GpuData),
      output: (dtype, size) => {
        const data = this.allocate(dtype, size, false);
        return { data, buffer: data.cell.buffer as GPUBuffer };
      },
      scratch: (bytes) => this.acquire(bytes, false),
      releaseScratch: (buffer) => this.pool.release(buffer),
      constants: (values) => {
        const buffer = this.acquire(values.byteLength, true);
        this.queue.write(buffer, values);
        return buffer;
      },
      run: (source, inputs, outputs, groups) => {
        this.checkAlive();
        this.queue.dispatch(source, inputs, outputs, groups);
      },
      limits: this.device.limits,
      queue: this.queue,
    };
  }

  /** Computes `data` if it is a pending chain, and returns its buffer. */
  materialize(data: GpuData): GPUBuffer {
    const cell = data.cell;
    if (cell.freed) throw new ValueError('webgpu backend: storage used after it was released');
    if (cell.buffer) return cell.buffer;
    const expr = cell.expr as NonNullable<typeof cell.expr>;
    const buffer = this.acquire(data.size * 4, false);
    const leaves = cell.leaves;
    this.checkAlive();
    this.queue.dispatch(
      fusedSource(expr, leaves, data.size, data.dtype),
      leaves.map((l) => l.cell.buffer as GPUBuffer),
      [buffer],
      grid(data.size),
    );
    cell.buffer = buffer;
    this.live.buffers++;
    this.live.bytes += buffer.size;
    this.settlePending(cell);
    cell.expr = undefined;
    cell.leaves = [];
    for (const leaf of leaves) this.release(leaf);
    return buffer;
  }

  retain(data: DataHandle): void {
    const d = data as GpuData;
    // The first owner: from now on the collector may find it dead (Note [WebGPU backend]).
    if (d.owners++ > 0) return;
    this.registry.register(d, d.cell, d);
    // A pending chain a tensor owns is a storage to st.memory() as it would be on another
    // backend, though it has no buffer until its values are needed.
    if (!d.cell.buffer && !d.cell.freed && d.cell.pendingBytes === undefined) {
      d.cell.pendingBytes = d.size * 4;
      this.pending.storages++;
      this.pending.bytes += d.cell.pendingBytes;
    }
  }

  /** A pending storage computed or freed: st.memory() counts its buffer, or nothing, from now on. */
  private settlePending(cell: GpuData['cell']): void {
    if (cell.pendingBytes === undefined) return;
    this.pending.storages--;
    this.pending.bytes -= cell.pendingBytes;
    cell.pendingBytes = undefined;
  }

  release(data: DataHandle): void {
    const d = data as GpuData;
    if (--d.owners <= 0) {
      this.registry.unregister(d);
      this.freeCell(d.cell);
    }
  }

  supportsDtype(dtype: DType): boolean {
    return dtype !== 'float64';
  }

  upload(values: TypedArray, dtype: DType): DataHandle {
    const src =
      dtype === 'float32' ? (values instanceof Float32Array ? values : Float32Array.from(values)) : Int32Array.from(toTypedArray(values, dtype));
    const data = this.allocate(dtype, src.length, true);
    if (src.length > 0) this.queue.write(data.cell.buffer as GPUBuffer, src);
    if (src.length <= HOST_COPY_ELEMENTS) data.cell.host = toTypedArray(values, dtype);
    return data;
  }

  peek(data: DataHandle): TypedArray | undefined {
    return (data as GpuData).cell.host;
  }

  download(): TypedArray {
    throw new ValueError('webgpu backend: values are read asynchronously: use await t.data() or await t.array()');
  }

  async downloadAsync(data: DataHandle, dtype: DType, size: number): Promise<TypedArray> {
    const d = data as GpuData;
    this.checkAlive();
    if (size === 0) return toTypedArray([], dtype);
    const bytes = await this.queue.read(this.materialize(d), size * 4);
    if (this.gpuErrors.length > 0) {
      const errors = this.gpuErrors.splice(0);
      throw new StrataError(
        `webgpu backend: the GPU reported ${errors.length} error(s) while computing these values, so they cannot be trusted (a bug in Strata's kernels; please report it): ${errors[0].slice(0, 600)}`,
      );
    }
    if (dtype === 'float32') return new Float32Array(bytes);
    const ints = new Int32Array(bytes);
    return dtype === 'int32' ? ints : Uint8Array.from(ints, (v) => (v !== 0 ? 1 : 0));
  }

  fill(shape: Shape, dtype: DType, value: number): DataHandle {
    // A constant chain: no dispatch until something needs the values, and none at all when it is
    // only an operand of another elementwise op.
    return new GpuData({ buffer: undefined, expr: { k: 'const', dtype, value }, leaves: [], freed: false }, sizeOf(shape), dtype);
  }

  random(shape: Shape, dtype: DType, stream: RandomStream, dist: Distribution): DataHandle {
    // Generated on the host by the reference backend's function, so seeds reproduce across backends.
    const n = sizeOf(shape);
    const values = dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
    fillRandom(values, stream, dist);
    return this.upload(values, dtype);
  }

  /** The end of a gradient computation: submit the step's work, and collect dead storage when it grew. */
  afterBackward(): boolean {
    this.queue.submit();
    if (this.live.bytes < this.baseline) this.baseline = this.live.bytes;
    if (this.live.bytes - this.baseline < RECLAIM_BYTES || !this.collector || !this.registry.cleanupSome) return false;
    this.collector.collect();
    this.registry.cleanupSome();
    this.baseline = this.live.bytes;
    return true;
  }

  /** Sends every recorded kernel to the GPU now. */
  flush(): void {
    this.queue.submit();
  }

  /** Work counters (dispatches, submits, reads, uploads, pipelines) since the backend started. */
  counters(): GpuCounters {
    return { ...this.queue.counters };
  }

  describe(): string {
    return this.opened.adapterName;
  }

  memory(): MemoryInfo & { cachedBytes: number } {
    return { buffers: this.live.buffers + this.pending.storages, bytes: this.live.bytes + this.pending.bytes, cachedBytes: this.pool.pooledBytes };
  }

  /** Gives every pooled buffer back to the driver. */
  trim(): void {
    this.queue.submit();
    // Work still waiting for a kernel to compile binds pooled buffers too (Note [Pipelines compiled asynchronously]).
    this.queue.whenIdle(() => this.pool.trim());
  }

  private allocate(dtype: DType, size: number, forUpload: boolean): GpuData {
    const buffer = this.acquire(size * 4, forUpload);
    this.live.buffers++;
    this.live.bytes += buffer.size;
    return new GpuData({ buffer, expr: undefined, leaves: [], freed: false }, size, dtype);
  }

  private acquire(bytes: number, forUpload: boolean): GPUBuffer {
    this.checkAlive();
    return this.pool.acquire(bytes, forUpload);
  }

  /** Frees a storage: by its last owner's release, or by the registry when it was found dead. */
  private freeCell(cell: GpuData['cell']): void {
    if (cell.freed) return;
    cell.freed = true;
    this.settlePending(cell);
    if (cell.buffer) {
      this.live.buffers--;
      this.live.bytes -= cell.buffer.size;
      this.pool.release(cell.buffer);
    }
    for (const leaf of cell.leaves) this.release(leaf);
    cell.leaves = [];
    cell.expr = undefined;
  }

  private checkAlive(): void {
    if (this.lost !== undefined)
      throw new ValueError(`webgpu backend: the GPU device was lost (${this.lost}); set the backend again to open a new one`);
  }
}

/** Registers the webgpu backend (opened by `await st.setBackend('webgpu')` or `await st.ready()`). */
export function registerWebGpuBackend(): void {
  registerAsyncBackend('webgpu', async () => new WebGpuBackend(await openDevice()), 1);
}

export { setGpuProvider } from './device.js';
