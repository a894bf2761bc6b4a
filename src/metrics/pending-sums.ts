import { ValueError } from '../core/errors.js';
import { cast } from '../ops/elementwise.js';
import { sum } from '../ops/reduction.js';
import { concat, reshape } from '../ops/shape-ops.js';
import { noGrad } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';

/** At most this many batches' sums wait on the backend; then they are added up there (no read). */
const COMPACT_AFTER = 256;

/**
 * Running sums of a metric's state (Note [Streaming metrics]): each batch adds a small vector
 * computed on the backend, kept there until someone asks for the value; then all of them come to
 * the host in one read and are added in float64. So an update never waits for the backend, and
 * the totals lose nothing to float32 accumulation. A long run without a read (a user loop that
 * only calls update) adds its waiting vectors up on the backend every COMPACT_AFTER batches.
 */
export class PendingSums {
  /** What has been read so far, in float64. */
  readonly host: Float64Array;
  private pending: Tensor[] = [];

  constructor(
    private readonly metric: string,
    length: number,
  ) {
    this.host = new Float64Array(length);
  }

  /** Takes ownership of `values` (this state's length, any shape) and adds them without reading. */
  add(values: Tensor): void {
    if (values.size !== this.host.length) throw new ValueError(`${this.metric}: expected ${this.host.length} sums; received ${values.size}`);
    this.pending.push(values);
    if (this.pending.length >= COMPACT_AFTER) {
      const joined = this.take();
      this.pending = [noGrad(() => sum(reshape(joined, [-1, this.host.length]), 0))];
      joined.dispose();
    }
  }

  /** Whether batches wait on the backend. */
  get waiting(): boolean {
    return this.pending.length > 0;
  }

  /** Reads the waiting sums without blocking: what the trainer awaits (Note [Reading values without stalling]). */
  async settle(): Promise<void> {
    if (!this.pending.length) return;
    const taken = this.take();
    this.fold(await taken.data());
    taken.dispose();
  }

  /**
   * Reads the waiting sums now (result() on a CPU backend).
   * @throws ValueError on a backend that reads asynchronously only, naming `await metric.resultAsync()`.
   */
  settleSync(): void {
    if (!this.pending.length) return;
    const backend = this.pending[0].backend;
    if (backend.readSync === false) {
      throw new ValueError(
        `${this.metric}: its values are on the '${backend.name}' backend, which reads asynchronously only; use \`await metric.resultAsync()\` (or await metric.settle() first)`,
      );
    }
    const taken = this.take();
    this.fold(taken.dataSync());
    taken.dispose();
  }

  /** Forgets everything, waiting sums included. */
  reset(): void {
    for (const t of this.pending) t.dispose();
    this.pending = [];
    this.host.fill(0);
  }

  /** Replaces the totals (a restored state). */
  set(values: readonly number[]): void {
    this.reset();
    this.host.set(values);
  }

  /** The waiting vectors joined into one flat tensor (one download), taken out of the list. */
  private take(): Tensor {
    const all = this.pending;
    this.pending = [];
    if (all.length === 1) return all[0];
    // Plain counts are int32 and weighted ones float: one read needs one dtype.
    const mixed = all.some((t) => t.dtype !== all[0].dtype);
    const dtype = all.some((t) => t.dtype === 'float64') ? 'float64' : 'float32';
    const joined = noGrad(() => concat(all.map((t) => reshape(mixed ? cast(t, dtype) : t, [t.size]))));
    all.forEach((t) => t.dispose());
    return joined;
  }

  private fold(values: ArrayLike<number>): void {
    const n = this.host.length;
    for (let i = 0; i < values.length; i++) this.host[i % n] += values[i];
  }
}
