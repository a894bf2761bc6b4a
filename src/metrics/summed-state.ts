import { ValueError, fmtValue } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Metric } from './metric.js';
import { PendingSums } from './pending-sums.js';

// Note [Metrics whose state is a vector of sums]
// Most of Keras's stateful metrics (confusion counts, IoU's confusion matrix, R2's moments,
// F-beta's per-class counts, the sensitivity/specificity buckets) keep a fixed vector of weighted
// sums that each batch adds to. Such a state is additive: two workers' states summed are the
// state of the union of their batches, which is what the distributed fit does with getState
// (models/distributed-fit.ts sums every rank's state, then setState). Each update computes the
// batch's vector on the backend and leaves it there (Note [Streaming metrics]); result() reads
// the float64 totals. Some lengths are known only at the first batch (the number of classes);
// before it, the state is empty and result() is 0.

/** A metric whose whole state is a vector of sums (Note [Metrics whose state is a vector of sums]). */
export abstract class SummedStateMetric extends Metric {
  private sums: PendingSums | undefined;

  /** @param length the state's length, or undefined until the first batch tells it. */
  constructor(name: string, length?: number) {
    super(name);
    if (length !== undefined) this.sums = new PendingSums(this.name, length);
  }

  /** The state's length, once known. */
  protected get stateLength(): number | undefined {
    return this.sums?.host.length;
  }

  /** Fixes the state's length (at the first batch); a later batch must agree, else `mismatch` is thrown. */
  protected buildState(length: number, mismatch: () => Error): void {
    if (!this.sums) this.sums = new PendingSums(this.name, length);
    else if (this.sums.host.length !== length) throw mismatch();
  }

  /** Adds one batch's vector of sums (taken over: disposed later). */
  protected addSums(values: Tensor): void {
    if (!this.sums) throw new ValueError(`${this.name}: internal: the state was not built before the first batch was added`);
    this.sums.add(values);
  }

  /** The totals in float64 (empty before the first batch when the length comes from it). */
  protected totals(): Float64Array {
    if (!this.sums) return new Float64Array(0);
    this.sums.settleSync();
    return this.sums.host;
  }

  override async settle(): Promise<void> {
    await this.sums?.settle();
  }

  /** Forgets everything accumulated (the learned length, if any, stays). */
  override reset(): void {
    this.sums?.reset();
  }

  /** The summed state; undefined before the first batch when its length comes from the data. */
  override getState(): number[] | undefined {
    return this.sums ? Array.from(this.totals()) : undefined;
  }

  override setState(state: readonly number[]): void {
    const ok = Array.isArray(state) && state.every((v) => typeof v === 'number');
    if (!ok || (this.sums && state.length !== this.sums.host.length)) {
      throw new ValueError(`${this.name}: expected a state of ${this.sums?.host.length ?? 'its'} numbers; received ${fmtValue(state)}`);
    }
    const length = this.stateFromLength(state.length);
    if (!this.sums) this.sums = new PendingSums(this.name, length);
    this.sums.set(state);
  }

  /**
   * Checks that a restored state of this length fits a metric built before any batch (the
   * number of classes follows from it); the default accepts any length.
   */
  protected stateFromLength(length: number): number {
    return length;
  }
}
