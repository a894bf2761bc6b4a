import type { BufferPool } from './buffer-pool.js';
import { BUFFER_USAGE, MAP_READ, SHADER_STAGE_COMPUTE } from './gpu-flags.js';

// Note [One encoder per step]
// Every kernel records its dispatch into one open compute pass; nothing reaches the GPU until the
// encoder is submitted: before a read (a read must see every write queued before it), when the
// trainer ends a step (afterBackward), or after MAX_PENDING dispatches so a long synchronous loop
// keeps the GPU busy and the pool's `recent` buffers come back (Note [GPU buffer pool]). Pipelines
// are cached by their WGSL source: kernels bake shapes into the source, so a training loop
// compiles each kernel once per shape and then only looks it up.
//
// Note [Pipelines compiled asynchronously]
// Compiling a kernel is the slow part of a first step: on SwiftShader a tiled GEMM takes about 40
// ms, and a training step of a small convnet asks for a hundred kernels. In Node,
// createComputePipeline blocks the JavaScript thread for each in turn; createComputePipelineAsync
// hands the work to the driver (Chromium's GPU process, which may compile several at once; Dawn's
// background thread in Node, which compiles them one at a time: 24 kernels resolved about 20 ms
// apart here, so the total is unchanged, but JavaScript meanwhile records the rest of the step,
// and later steps of a fit, or serves its event loop). So a kernel seen for the first time is compiled
// asynchronously and its dispatch is recorded in `waiting`, with its bind group, instead of in
// the compute pass; from then on every dispatch and copy waits there too, so the GPU still runs
// them in recording order. `drain` awaits the pipelines the waiting work needs, then encodes it
// all in order; when nothing waits, dispatches go straight into the pass again.
//   A submit asked for while work waits happens once the drain has encoded it all: a partial
//   submit would let the pool hand buffers the waiting work still reads to an upload, which the
//   queue writes at once (Note [GPU buffer pool]), or destroy them when it trims. So the submit
//   count (which the optimizer's scalar buffers go by, Note [WebGPU optimizer updates]) moves
//   only when recorded work really reached the queue, and a read awaits the drain before it maps.
//   A kernel the driver refuses to compile rejects its promise: the message goes to the backend's
//   error list, so the next read fails as it would for a synchronous compile error, and the
//   dispatch is dropped.

const MAX_PENDING = 512;
const MAX_PIPELINES = 1024;

/** Work counters since the backend started, for st.profile and the benchmark. */
export type GpuCounters = {
  /** Compute dispatches recorded. */
  dispatches: number;
  /** Command buffers submitted to the queue. */
  submits: number;
  /** Values read back to the host (`await t.data()`), and their bytes. */
  reads: number;
  bytesRead: number;
  /** Host values written to the GPU, and their bytes. */
  uploads: number;
  bytesUploaded: number;
  /** Pipelines compiled (each distinct kernel source, once). */
  pipelines: number;
  /** Dispatches recorded while a pipeline was still compiling (Note [Pipelines compiled asynchronously]). */
  deferred: number;
};

/** A kernel's pipeline: compiled, still compiling (`compiling`), or refused (`failed`). */
interface CachedPipeline {
  pipeline?: GPUComputePipeline;
  compiling?: Promise<void>;
  failed?: string;
  bindGroupLayout: GPUBindGroupLayout;
}

/** Work recorded while a pipeline compiles, encoded in this order once they all have (Note [Pipelines compiled asynchronously]). */
type Waiting =
  | { kind: 'dispatch'; entry: CachedPipeline; bindGroup: GPUBindGroup; groups: readonly [number, number, number] }
  | { kind: 'copy'; src: GPUBuffer; dst: GPUBuffer; bytes: number };

interface Layout {
  pipelineLayout: GPUPipelineLayout;
  bindGroupLayout: GPUBindGroupLayout;
}

export class GpuQueue {
  readonly counters: GpuCounters = { dispatches: 0, submits: 0, reads: 0, bytesRead: 0, uploads: 0, bytesUploaded: 0, pipelines: 0, deferred: 0 };
  private encoder: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  private pending = 0;
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly layouts = new Map<string, Layout>();
  private readonly waiting: Waiting[] = [];
  /** A submit was asked for while work waited. */
  private submitWanted = false;
  private draining: Promise<void> | undefined;
  /** Whether this device compiles asynchronously (every WebGPU implementation should). */
  private readonly compilesAsync: boolean;

  constructor(
    readonly device: GPUDevice,
    private readonly pool: BufferPool,
    /** Told the message of a kernel the driver refused to compile. */
    private readonly onError: (message: string) => void = () => {},
  ) {
    this.compilesAsync = typeof device.createComputePipelineAsync === 'function';
  }

  /**
   * Records one dispatch of the kernel `source` (entry point `main`) over `groups` workgroups, with
   * `inputs` bound read-only at 0.. and `outputs` read-write after them.
   */
  dispatch(source: string, inputs: readonly GPUBuffer[], outputs: readonly GPUBuffer[], groups: readonly [number, number, number]): void {
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    const entry = this.pipeline(source, inputs.length, outputs.length);
    if (entry.failed !== undefined) {
      // Refused by the compiler: fail the next read again, as a synchronous compile error would.
      this.onError(entry.failed);
      return;
    }
    const entries = [...inputs, ...outputs].map((buffer, binding) => ({ binding, resource: { buffer } }));
    const bindGroup = this.device.createBindGroup({ layout: entry.bindGroupLayout, entries });
    this.counters.dispatches++;
    if (this.waiting.length > 0 || !entry.pipeline) {
      this.counters.deferred++;
      this.wait({ kind: 'dispatch', entry, bindGroup, groups });
      return;
    }
    this.encodeDispatch(entry.pipeline, bindGroup, groups);
    if (this.pending >= MAX_PENDING) this.submit();
  }

  /** Copies `bytes` from `src` to `dst` on the GPU, in order with the dispatches. */
  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    if (this.waiting.length > 0) this.wait({ kind: 'copy', src, dst, bytes });
    else this.encodeCopy(src, dst, bytes);
  }

  /** Writes host values into `buffer` (one taken from the pool with `forUpload`). */
  write(buffer: GPUBuffer, values: ArrayBufferView): void {
    this.counters.uploads++;
    this.counters.bytesUploaded += values.byteLength;
    this.device.queue.writeBuffer(buffer, 0, values.buffer, values.byteOffset, values.byteLength);
  }

  /** Sends everything recorded so far to the GPU (once the kernels it waits for have compiled). */
  submit(): void {
    if (this.waiting.length > 0) {
      this.submitWanted = true;
      return;
    }
    if (!this.encoder) return;
    this.closePass();
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = undefined;
    this.pending = 0;
    this.counters.submits++;
    this.pool.submitted();
  }

  /** The first `bytes` of `buffer`, once every kernel queued before this call has run. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST });
    this.copy(buffer, staging, size);
    this.submit();
    await this.idle();
    this.counters.reads++;
    this.counters.bytesRead += bytes;
    await staging.mapAsync(MAP_READ, 0, size);
    const copy = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return copy;
  }

  /** Resolves once no recorded work waits for a pipeline (it has all been encoded, and submitted if asked). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Runs `f` once no recorded work waits for a pipeline: now, or after the drain. */
  whenIdle(f: () => void): void {
    if (this.waiting.length === 0) f();
    else void this.idle().then(f);
  }

  private wait(work: Waiting): void {
    this.waiting.push(work);
    if (!this.draining) this.draining = this.drain();
  }

  /**
   * Note [Pipelines compiled asynchronously]: encodes the waiting work in order once its pipelines
   * exist. `draining` is cleared in the same synchronous stretch that finds nothing left waiting,
   * so work recorded at any later moment starts a new drain rather than joining a finished one.
   */
  private async drain(): Promise<void> {
    // Never finish before `draining` is assigned, so the assignment cannot outlive the drain.
    await undefined;
    try {
      for (;;) {
        const compiling = this.waiting.flatMap((w) => (w.kind === 'dispatch' && w.entry.compiling ? [w.entry.compiling] : []));
        if (compiling.length > 0) {
          await Promise.all(compiling);
          continue; // more may have been recorded meanwhile
        }
        for (const work of this.waiting.splice(0)) {
          if (work.kind === 'copy') this.encodeCopy(work.src, work.dst, work.bytes);
          else if (work.entry.pipeline) this.encodeDispatch(work.entry.pipeline, work.bindGroup, work.groups);
          // else: refused by the compiler; the error is on its way to the next read.
        }
        if (this.submitWanted || this.pending >= MAX_PENDING) {
          this.submitWanted = false;
          this.submit();
        }
        this.draining = undefined;
        return;
      }
    } catch (error) {
      this.draining = undefined;
      throw error;
    }
  }

  private encodeDispatch(pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, groups: readonly [number, number, number]): void {
    const pass = this.openPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.pending++;
  }

  private encodeCopy(src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    this.closePass();
    this.encoderNow().copyBufferToBuffer(src, 0, dst, 0, bytes);
  }

  private openPass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.encoderNow().beginComputePass();
    return this.pass;
  }

  private closePass(): void {
    this.pass?.end();
    this.pass = undefined;
  }

  private encoderNow(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private pipeline(source: string, inputs: number, outputs: number): CachedPipeline {
    const cached = this.pipelines.get(source);
    if (cached) {
      // Most recently used last, so the oldest is dropped first when the cache is full.
      this.pipelines.delete(source);
      this.pipelines.set(source, cached);
      return cached;
    }
    const layout = this.layout(inputs, outputs);
    const module = this.device.createShaderModule({ code: source });
    const descriptor = { layout: layout.pipelineLayout, compute: { module, entryPoint: 'main' } };
    this.counters.pipelines++;
    const entry: CachedPipeline = { bindGroupLayout: layout.bindGroupLayout };
    if (this.compilesAsync) {
      entry.compiling = this.device.createComputePipelineAsync(descriptor).then(
        (pipeline) => {
          entry.pipeline = pipeline;
          entry.compiling = undefined;
        },
        (error: unknown) => {
          entry.failed = error instanceof Error ? error.message : String(error);
          entry.compiling = undefined;
          this.onError(entry.failed);
        },
      );
    } else {
      entry.pipeline = this.device.createComputePipeline(descriptor);
    }
    this.pipelines.set(source, entry);
    if (this.pipelines.size > MAX_PIPELINES) this.pipelines.delete(this.pipelines.keys().next().value as string);
    return entry;
  }

  /** An explicit layout (read-only inputs, then read-write outputs), so a binding a shader leaves unused is still valid. */
  private layout(inputs: number, outputs: number): Layout {
    const key = `${inputs}/${outputs}`;
    let layout = this.layouts.get(key);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      for (let i = 0; i < inputs + outputs; i++) {
        entries.push({ binding: i, visibility: SHADER_STAGE_COMPUTE, buffer: { type: i < inputs ? 'read-only-storage' : 'storage' } });
      }
      const bindGroupLayout = this.device.createBindGroupLayout({ entries });
      layout = { bindGroupLayout, pipelineLayout: this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }) };
      this.layouts.set(key, layout);
    }
    return layout;
  }
}
