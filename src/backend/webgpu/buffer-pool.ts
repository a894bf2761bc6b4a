import { BUFFER_USAGE } from './gpu-flags.js';

// Note [GPU buffer pool]
// Creating and destroying GPU buffers costs a driver call each, and a training step makes the same
// temporaries every time, so freed buffers are kept by size class (powers of two up to 64 KiB, then
// eighths of the power of two: at most 12.5 % slack) and handed out again. Two rules keep reuse
// safe with one command encoder per step (Note [One encoder per step] in gpu-queue.ts):
//   - A buffer freed while the open encoder may still read it goes to `recent`. A later kernel in
//     the same encoder may write it (dispatches run in order), but queue.writeBuffer may not: it
//     runs at the queue before the encoder is submitted, so an upload would overwrite values an
//     earlier dispatch has yet to read. Uploads take only from `ready`; a submit moves `recent` to `ready`.
//   - Under pressure the pool gives buffers back: at each submit, pooled bytes are cut to
//     max(32 MiB, half the bytes in use), dropping the least recently freed first (never before
//     the submit: the open encoder may still use them), and trim() empties it.

const USAGE = BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST;
const MIN_POOL_LIMIT = 32 * 2 ** 20;

/** The size a request for `bytes` is rounded up to. */
export function sizeClass(bytes: number): number {
  const n = Math.max(16, Math.ceil(bytes / 4) * 4);
  if (n <= 65536) return 2 ** Math.ceil(Math.log2(n));
  const step = 2 ** Math.floor(Math.log2(n)) / 8;
  return Math.ceil(n / step) * step;
}

export class BufferPool {
  private readonly ready = new Map<number, GPUBuffer[]>();
  private readonly recent = new Map<number, GPUBuffer[]>();
  /** Freed buffers in release order, oldest first, for trimming. */
  private readonly order = new Set<GPUBuffer>();
  pooledBytes = 0;
  inUseBytes = 0;
  inUseBuffers = 0;
  created = 0;

  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `bytes`; `forUpload` keeps it clear of buffers the open encoder may read. */
  acquire(bytes: number, forUpload: boolean): GPUBuffer {
    const size = sizeClass(bytes);
    const pooled = (forUpload ? undefined : this.recent.get(size)?.pop()) ?? this.ready.get(size)?.pop();
    if (pooled) {
      this.order.delete(pooled);
      this.pooledBytes -= size;
    }
    const buffer = pooled ?? this.create(size);
    this.inUseBytes += size;
    this.inUseBuffers++;
    return buffer;
  }

  /** Takes `buffer` back; it is handed out again for the same size class. */
  release(buffer: GPUBuffer): void {
    this.inUseBytes -= buffer.size;
    this.inUseBuffers--;
    const list = this.recent.get(buffer.size) ?? [];
    list.push(buffer);
    this.recent.set(buffer.size, list);
    this.order.add(buffer);
    this.pooledBytes += buffer.size;
  }

  /** The open encoder was submitted: every freed buffer may now take uploads too. */
  submitted(): void {
    for (const [size, list] of this.recent) {
      const ready = this.ready.get(size) ?? [];
      ready.push(...list);
      this.ready.set(size, ready);
    }
    this.recent.clear();
    // Trimmed only now: a buffer the open encoder still uses must not be destroyed before it is
    // submitted (destroying it after is fine: the driver frees it when the work is done).
    const limit = Math.max(MIN_POOL_LIMIT, this.inUseBytes / 2);
    while (this.pooledBytes > limit) this.dropOldest();
  }

  /** Destroys every pooled buffer; call right after a submit (the backend's trim() does). */
  trim(): void {
    while (this.order.size > 0) this.dropOldest();
  }

  private dropOldest(): void {
    const buffer = this.order.values().next().value as GPUBuffer;
    this.order.delete(buffer);
    for (const map of [this.ready, this.recent]) {
      const list = map.get(buffer.size);
      const at = list?.indexOf(buffer) ?? -1;
      if (list && at >= 0) list.splice(at, 1);
    }
    this.pooledBytes -= buffer.size;
    buffer.destroy();
  }

  private create(size: number): GPUBuffer {
    this.created++;
    return this.device.createBuffer({ size, usage: USAGE });
  }
}
