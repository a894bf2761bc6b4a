// What changes in fit when it runs with {distributed: true} in every process of an MPI job
// (docs/distributed.md): the start from rank 0's state, each rank's shard of every global batch,
// the averaged gradients, the agreement to stop, and the logs summed over the ranks.

import { ValueError, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { getRngState, setRngState } from '../core/rng.js';
import type { Communicator } from '../distributed/communicator.js';
import { requireCommunicator, watched } from '../distributed/context.js';
import { DEFAULT_BUCKET_BYTES, GradientBuckets } from '../distributed/gradient-buckets.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Batch } from './batch-source.js';
import { ArrayData } from './data-adapter.js';
import type { BatchSource } from './fit-data.js';
import type { RunningLosses } from './running-losses.js';
import type { TrainableModel, TrainStep } from './train-step.js';
import type { DistributedOption } from './training-args.js';

/** A batch of this rank's shard, with the size of the global batch it is part of. */
export type ShardBatch = Batch & { globalSize: number };

// Note [One global batch, split by rank]
// With N ranks and batchSize B, a step trains on a global batch of N·B samples: every rank
// shuffles with the same stream (rank 0's, broadcast at the start), so all hold the same
// permutation, and rank r takes samples [r·B, (r+1)·B) of each global batch. The gradients are
// then averaged with each rank weighted by its share of the samples (Note [Gradient buckets]),
// so a step is the single-process step with batch N·B: same weights after it, up to the order
// in which float32 sums are added. Every rank runs the same number of steps (a rank whose share
// of the last, short batch is empty takes part with zero gradients), because every step's
// allreduce needs all of them. A Dataset yields batches already made: rank r takes batches r,
// r+N, ..., each rank the same count, and the ranks weigh equally.

export class DistributedFit {
  readonly rank: number;
  readonly size: number;
  private readonly comm: Communicator;
  private readonly buckets: GradientBuckets;

  constructor(
    private readonly model: TrainableModel,
    option: DistributedOption,
  ) {
    if (typeof option === 'object' && option !== null) checkKeys('fit: distributed', option, ['bucketBytes']);
    else if (option !== true) throw new ValueError(`fit: distributed must be true or {bucketBytes}; received ${fmtValue(option)}`);
    this.comm = requireCommunicator('fit: distributed');
    this.rank = this.comm.rank;
    this.size = this.comm.size;
    const bucketBytes = typeof option === 'object' ? (option.bucketBytes ?? DEFAULT_BUCKET_BYTES) : DEFAULT_BUCKET_BYTES;
    this.buckets = new GradientBuckets(
      model.trainableWeights.map((w) => w.value),
      this.comm,
      bucketBytes,
    );
  }

  /** Every rank starts from rank 0's weights. */
  async synchronize(): Promise<void> {
    await this.broadcastWeights(this.model.weights.map((w) => w.value));
  }

  /**
   * Rank 0's random stream, at the start of every epoch: all ranks draw the same permutation
   * (a rank with a smaller share of the last batch drew fewer dropout masks, so the streams
   * part during an epoch).
   */
  async synchronizeStream(): Promise<void> {
    const rng = getRngState();
    const state = new Float64Array([rng.key[0], rng.key[1], rng.offset]);
    await watched("rank 0's random stream", this.comm.broadcastHost(state, 0));
    setRngState({ key: [state[0], state[1]], offset: state[2] });
  }

  /**
   * After the permutation is drawn: every rank but 0 moves to a stream of its own, so the ranks'
   * dropout masks differ (as DDP's ranks, seeded apart). Rank 0 keeps the stream a single process
   * would have, which is what its checkpoints record.
   */
  decorrelate(): void {
    if (this.rank === 0) return;
    const { key, offset } = getRngState();
    setRngState({ key: [(key[0] ^ Math.imul(this.rank, 0x9e3779b9)) >>> 0, key[1]], offset });
  }

  /**
   * Rank 0's values of the weights that no gradient updates (batch normalization's moving
   * statistics, which each rank moves by its own samples), so every rank validates and saves
   * the same model (PyTorch's DDP broadcasts them every step; once per epoch is enough here).
   */
  async synchronizeNonTrainable(): Promise<void> {
    await this.broadcastWeights(this.model.nonTrainableWeights.map((w) => w.value));
  }

  private async broadcastWeights(values: Tensor[]): Promise<void> {
    const floats = values.filter((v) => v.dtype === 'float32');
    if (floats.length) await watched("rank 0's weights", this.comm.broadcast(floats, 0));
    for (const v of values.filter((t) => t.dtype !== 'float32')) await watched("rank 0's weights", this.comm.broadcast([v], 0));
  }

  /** Training steps per epoch (every rank the same). */
  steps(source: BatchSource, batchSize: number): number {
    if (source instanceof ArrayData) return Math.ceil(source.size / (batchSize * this.size));
    const all = source.steps;
    if (all === null || !Number.isFinite(all))
      throw new ValueError(
        'fit: distributed training on a Dataset needs its length (a finite dataset) or stepsPerEpoch, so every rank runs the same number of steps',
      );
    const mine = Math.floor(all / this.size);
    if (mine === 0) throw new ValueError(`fit: the dataset has ${all} batches per epoch, fewer than the ${this.size} ranks`);
    return mine;
  }

  /** This rank's batches of one epoch over arrays (Note [One global batch, split by rank]), from global batch `start`. */
  *arrayBatches(data: ArrayData, batchSize: number, order: Int32Array | undefined, start: number): Generator<ShardBatch> {
    const global = batchSize * this.size;
    const ids = order ?? Int32Array.from({ length: data.size }, (_, i) => i);
    for (let k = start; k < Math.ceil(data.size / global); k++) {
      const first = k * global;
      const globalSize = Math.min(global, data.size - first);
      const lo = Math.min(first + this.rank * batchSize, data.size),
        hi = Math.min(first + (this.rank + 1) * batchSize, first + globalSize);
      if (hi <= lo) {
        yield { xs: [], ys: [], size: 0, owned: false, globalSize };
        continue;
      }
      yield { ...data.rows(ids.subarray(lo, hi)), owned: true, globalSize };
    }
  }

  /** This rank's batches of one epoch of a Dataset: batches rank, rank + N, ... (`steps` of them). */
  async *datasetBatches(batches: AsyncIterable<Batch>, steps: number): AsyncGenerator<ShardBatch> {
    let i = 0,
      taken = 0;
    for await (const batch of batches) {
      if (taken >= steps) {
        if (batch.owned) [...batch.xs, ...batch.ys, ...(batch.weights ? [batch.weights] : [])].forEach((t) => t.dispose());
        break;
      }
      if (i++ % this.size === this.rank) {
        taken++;
        yield { ...batch, globalSize: batch.size * this.size };
      } else if (batch.owned) {
        [...batch.xs, ...batch.ys, ...(batch.weights ? [batch.weights] : [])].forEach((t) => t.dispose());
      }
    }
  }

  /** This rank's part of a validation pass: a contiguous slice of arrays, or every N-th batch of a Dataset. */
  validationBatches(source: BatchSource, batchSize: number): Iterable<Batch> | AsyncIterable<Batch> {
    if (!(source instanceof ArrayData)) return this.datasetBatches(source.epoch(), Number.MAX_SAFE_INTEGER);
    const per = Math.ceil(source.size / this.size);
    const lo = Math.min(source.size, this.rank * per),
      hi = Math.min(source.size, lo + per);
    return (function* () {
      for (let at = lo; at < hi; at += batchSize) {
        const ids = Int32Array.from({ length: Math.min(batchSize, hi - at) }, (_, i) => at + i);
        yield { ...source.rows(ids), owned: true };
      }
    })();
  }

  /** One step on this rank's shard: its loss values (none for an empty shard), the update applied with the averaged gradients. */
  train(step: TrainStep, batch: ShardBatch, weights: Tensor | undefined): Promise<Tensor[]> {
    return step.trainShard(batch.size ? batch.xs : undefined, batch.ys, weights, batch.size / batch.globalSize, this.buckets);
  }

  /** Whether any rank asked to stop (a callback, EarlyStopping, Ctrl-C): all stop at the same step. */
  async agreeToStop(local: boolean): Promise<boolean> {
    const flag = new Float64Array([local ? 1 : 0]);
    await watched('the decision to stop', this.comm.allreduceHost(flag));
    return flag[0] > 0;
  }

  /**
   * Turns this rank's pass totals into the job's: the loss sums, the sample counts and every
   * metric's state are summed over the ranks (exact: they are sums); a metric that cannot hand
   * out its state is averaged by sample count instead. Settle both before.
   */
  async mergePass(losses: RunningLosses, step: TrainStep): Promise<void> {
    const metrics = step.metricList();
    const states = metrics.map((m) => m.getState());
    const message = [losses.seen, ...losses.sums];
    metrics.forEach((m, i) => {
      const s = states[i];
      if (s) message.push(...s);
      else message.push(m.result() * losses.seen);
    });
    const sums = Float64Array.from(message);
    await watched('the epoch logs', this.comm.allreduceHost(sums));
    let at = 0;
    const seen = sums[at++];
    losses.restore(seen, Array.from(sums.subarray(at, at + losses.sums.length)));
    at += losses.sums.length;
    metrics.forEach((m, i) => {
      const s = states[i];
      if (s) {
        m.setState(Array.from(sums.subarray(at, at + s.length)));
        at += s.length;
      } else {
        step.overrideResult(m, sums[at++] / seen);
      }
    });
  }
}
