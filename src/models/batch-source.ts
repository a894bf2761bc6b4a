import { ValueError } from '../core/errors.js';
import { Dataset } from '../data/dataset.js';
import { Tensor } from '../tensor/tensor.js';
import type { ArrayData } from './data-adapter.js';
import { checkSampleWeight } from './sample-weights.js';

/** One batch as the trainer uses it; `owned` batches are disposed after their step. */
export interface Batch {
  xs: Tensor[];
  ys: Tensor[];
  /** Per-sample weights [size] (Note [Sample and class weights] in sample-weights.ts). */
  weights?: Tensor;
  size: number;
  owned: boolean;
}

export const isDataset = (x: unknown): x is Dataset<unknown> => x instanceof Dataset;

/** The batches of one epoch of in-memory arrays, in `order` when shuffled, from batch `start`. */
export function* arrayBatches(data: ArrayData, batchSize: number, order: Int32Array | undefined, start: number): Generator<Batch> {
  for (let b = start; b < data.batchCount(batchSize); b++) {
    const batch = data.batch(b, batchSize, order);
    yield { ...batch, owned: batch.xs !== data.xs };
  }
}

/**
 * A dataset element as lists of input and target tensors: `{xs, ys, sampleWeight?}` with a tensor
 * or a list in xs and ys, or Keras's tuple `[x, y]` / `[x, y, sampleWeight]`.
 */
function toBatch(op: string, element: unknown, needTargets: boolean): Batch {
  const asList = (v: unknown, what: string): Tensor[] => {
    const list = Array.isArray(v) ? v : [v];
    if (!list.length || !list.every((t) => t instanceof Tensor))
      throw new ValueError(`${op}: each dataset element's ${what} must be a tensor or a list of tensors; received ${describe(v)}`);
    return list as Tensor[];
  };
  if (Array.isArray(element) && (element.length === 2 || element.length === 3)) {
    element = { xs: element[0], ys: element[1], sampleWeight: element[2] };
  }
  if (typeof element !== 'object' || element === null || !('xs' in element)) {
    throw new ValueError(
      `${op}: a dataset for training must yield batches {xs, ys} (use .batch(n) after fromArrays(x, y)); received ${describe(element)}`,
    );
  }
  const e = element as { xs: unknown; ys?: unknown; sampleWeight?: unknown };
  if (needTargets && e.ys === undefined) throw new ValueError(`${op}: the dataset's elements have no ys (targets)`);
  const xs = asList(e.xs, 'xs');
  const ys = e.ys === undefined ? [] : asList(e.ys, 'ys');
  const size = xs[0].shape[0];
  if (xs[0].rank === 0 || [...xs, ...ys].some((t) => t.shape[0] !== size)) {
    throw new ValueError(
      `${op}: a dataset element must be a batch whose tensors share the batch axis; received shapes ${[...xs, ...ys].map((t) => `[${t.shape.join(', ')}]`).join(', ')} (did you forget .batch(n)?)`,
    );
  }
  if (e.sampleWeight === undefined) return { xs, ys, size, owned: true };
  return { xs, ys, weights: checkSampleWeight(`${op} (dataset sampleWeight)`, e.sampleWeight, size), size, owned: true };
}

function describe(v: unknown): string {
  if (v instanceof Tensor) return `a tensor of shape [${v.shape.join(', ')}]`;
  if (typeof v === 'object' && v !== null) return `an object with keys ${Object.keys(v).join(', ') || '(none)'}`;
  return typeof v;
}

/**
 * Epochs over a Dataset. Without stepsPerEpoch each epoch is one full pass (the dataset is
 * iterated afresh); with it, an epoch is that many batches and the next epoch continues the
 * same iterator (Keras's rule), starting over when a finite dataset runs out.
 */
export class DatasetEpochs {
  private iterator: AsyncIterator<unknown> | null = null;

  constructor(
    private readonly op: string,
    private readonly ds: Dataset<unknown>,
    private readonly stepsPerEpoch: number | undefined,
    private readonly needTargets = true,
  ) {
    if (ds.size === Infinity && stepsPerEpoch === undefined) throw new ValueError(`${op}: the dataset repeats forever; pass stepsPerEpoch`);
  }

  /** Batches per epoch when known. */
  get steps(): number | null {
    return this.stepsPerEpoch ?? this.ds.size;
  }

  async *epoch(): AsyncGenerator<Batch> {
    if (this.stepsPerEpoch === undefined) {
      for await (const element of this.ds) yield toBatch(this.op, element, this.needTargets);
      return;
    }
    for (let step = 0; step < this.stepsPerEpoch; step++) {
      this.iterator ??= this.ds[Symbol.asyncIterator]();
      let next = await this.iterator.next();
      if (next.done) {
        this.iterator = this.ds[Symbol.asyncIterator]();
        next = await this.iterator.next();
        if (next.done) throw new ValueError(`${this.op}: the dataset is empty`);
      }
      yield toBatch(this.op, next.value, this.needTargets);
    }
  }
}
