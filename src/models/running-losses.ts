// The loss values of a pass, kept on the backend batch by batch and added up on the host when
// someone needs them (Note [Reading values without stalling] in epoch-loop.ts).

import { stack } from '../ops/shape-ops.js';
import { noGrad } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';

/** What a read found wrong: the first batch whose loss was not finite. */
export type NonFiniteHandler = (value: number, batch: number) => void;

/**
 * Running loss sums of a pass (the total first, then each output's when there are several),
 * weighted by batch size. `add` keeps a step's scalars where they are; `settle` reads every
 * waiting one in one download and adds them in float64, batch by batch, so the sums are what a
 * read after every step would give, and a non-finite loss is still reported at its own batch.
 */
export class RunningLosses {
  /** Samples added so far (known on the host at once). */
  seen = 0;
  /** Sums over the batches read so far of value * batch size; settle() first for all of them. */
  sums: number[];
  private pending: { values: Tensor[]; size: number; batch: number }[] = [];

  constructor(
    width: number,
    private readonly onNonFinite?: NonFiniteHandler,
  ) {
    this.sums = new Array<number>(width).fill(0);
  }

  /** Batches whose values wait on the backend. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Takes ownership of one batch's loss scalars. */
  add(values: Tensor[], size: number, batch: number): void {
    this.pending.push({ values, size, batch });
    this.seen += size;
  }

  /** Reads the waiting values without blocking and adds them to the sums. */
  async settle(): Promise<void> {
    if (!this.pending.length) return;
    const batches = this.pending;
    this.pending = [];
    const scalars = batches.flatMap((b) => b.values);
    const joined = scalars.length === 1 ? scalars[0] : noGrad(() => stack(scalars));
    let values: ArrayLike<number>;
    try {
      values = await joined.data();
    } finally {
      joined.dispose();
      for (const t of scalars) t.dispose();
    }
    const width = this.sums.length;
    batches.forEach(({ size, batch }, k) => {
      const first = values[k * width];
      if (!Number.isFinite(first)) this.onNonFinite?.(first, batch);
      for (let i = 0; i < width; i++) this.sums[i] += values[k * width + i] * size;
    });
  }

  /** Means over the samples seen: the total loss and each output's (after settle()). */
  means(): [number, number[]] {
    return [this.sums[0] / this.seen, this.sums.slice(1).map((s) => s / this.seen)];
  }

  /** Starts from a stopped epoch's sums (Note [Exact resume]). */
  restore(seen: number, sums: readonly number[]): void {
    this.seen = seen;
    this.sums = [...sums];
  }

  /** Frees values never read (a pass that ended with an error). */
  dispose(): void {
    for (const b of this.pending) for (const t of b.values) t.dispose();
    this.pending = [];
  }
}
