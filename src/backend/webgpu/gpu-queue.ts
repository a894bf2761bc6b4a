import type { BufferPool } from './buffer-pool.js';
import { BUFFER_USAGE, MAP_READ, SHADER_STAGE_COMPUTE } from './gpu-flags.js';

// Note [One encoder per step]
// Every kernel records its dispatch into one open compute pass; nothing reaches the GPU until the
// encoder is submitted: before a read (a read must see every write queued before it), when the
// trainer ends a step (afterBackward), or after MAX_PENDING dispatches so a long synchronous loop
// keeps the GPU busy and the pool's `recent` buffers come back (Note [GPU buffer pool]). Pipelines
// are cached by their WGSL source: kernels bake shapes into the source, so a training loop
// compiles each kernel once per shape and then only looks it up.

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
};

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  bindGroupLayout: GPUBindGroupLayout;
}

interface Layout {
  pipelineLayout: GPUPipelineLayout;
  bindGroupLayout: GPUBindGroupLayout;
}

export class GpuQueue {
  readonly counters: GpuCounters = { dispatches: 0, submits: 0, reads: 0, bytesRead: 0, uploads: 0, bytesUploaded: 0, pipelines: 0 };
  private encoder: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  private pending = 0;
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly layouts = new Map<string, Layout>();

  constructor(
    readonly device: GPUDevice,
    private readonly pool: BufferPool,
  ) {}

  /**
   * Records one dispatch of the kernel `source` (entry point `main`) over `groups` workgroups, with
   * `inputs` bound read-only at 0.. and `outputs` read-write after them.
   */
  dispatch(source: string, inputs: readonly GPUBuffer[], outputs: readonly GPUBuffer[], groups: readonly [number, number, number]): void {
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    const { pipeline, bindGroupLayout } = this.pipeline(source, inputs.length, outputs.length);
    const entries = [...inputs, ...outputs].map((buffer, binding) => ({ binding, resource: { buffer } }));
    const bindGroup = this.device.createBindGroup({ layout: bindGroupLayout, entries });
    const pass = this.openPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.counters.dispatches++;
    if (++this.pending >= MAX_PENDING) this.submit();
  }

  /** Copies `bytes` from `src` to `dst` on the GPU, in order with the dispatches. */
  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    this.closePass();
    this.encoderNow().copyBufferToBuffer(src, 0, dst, 0, bytes);
  }

  /** Writes host values into `buffer` (one taken from the pool with `forUpload`). */
  write(buffer: GPUBuffer, values: ArrayBufferView): void {
    this.counters.uploads++;
    this.counters.bytesUploaded += values.byteLength;
    this.device.queue.writeBuffer(buffer, 0, values.buffer, values.byteOffset, values.byteLength);
  }

  /** Sends everything recorded so far to the GPU. */
  submit(): void {
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
    this.counters.reads++;
    this.counters.bytesRead += bytes;
    await staging.mapAsync(MAP_READ, 0, size);
    const copy = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return copy;
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
    const pipeline = this.device.createComputePipeline({ layout: layout.pipelineLayout, compute: { module, entryPoint: 'main' } });
    this.counters.pipelines++;
    const entry = { pipeline, bindGroupLayout: layout.bindGroupLayout };
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
