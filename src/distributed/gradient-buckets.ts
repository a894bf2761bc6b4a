// The gradients of one data-parallel step, averaged over the ranks in buckets while the backward
// pass is still running (Note [Gradient buckets]).

import { ValueError } from '../core/errors.js';
import { zerosLike } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Communicator } from './communicator.js';
import { watched } from './context.js';

// Note [Gradient buckets]
// Averaging gradients one variable at a time pays MPI's latency per variable; averaging them all
// after the backward pass leaves the network idle while the processor works and the reverse.
// As PyTorch's DDP and Horovod do, the variables are grouped into buckets of about 25 MB in
// reverse order (the last layer's gradients are computed first), and a bucket's allreduce starts
// on the communication thread (Note [One communication thread] in native/src/mpi.cc) as soon as
// its last gradient is final, while the main thread computes the earlier layers' gradients.
// - Order: collectives must be issued in the same order on every rank, so bucket k starts only
//   after buckets 0..k-1 have (a bucket finished early waits for its predecessors).
// - Weights: each rank scales its gradients by its share of the global batch (its samples / all
//   samples) before the sum, so the result is the gradient of the global batch's mean loss even
//   when the last batch splits unevenly; a rank with no samples sends zeros.
// - No writes into live gradients: a gradient may share storage with another tensor the rest of
//   the backward pass still reads (an add passes one tensor to both inputs), so the sum goes into
//   new tensors, and the inputs are only read; they stay alive until their bucket is done.
// - Backends: on the native backend the bucket travels from the tensors' own memory; another CPU
//   backend's tensors are read to the host, so their buckets all go after the backward pass.
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

interface Bucket {
  variables: Tensor[];
  grads: Map<Tensor, Tensor>;
  sums?: Tensor[];
  done?: Promise<void>;
}

export class GradientBuckets {
  private readonly buckets: Bucket[] = [];
  private readonly bucketOf = new Map<Tensor, Bucket>();
  private launched = 0;
  private share = 1;
  private readonly overlap: boolean;
  private readonly zeros: Tensor[] = [];
  private step = 0;

  constructor(
    variables: readonly Tensor[],
    private readonly comm: Communicator,
    bucketBytes = DEFAULT_BUCKET_BYTES,
  ) {
    if (!(bucketBytes > 0)) throw new ValueError(`fit: distributed.bucketBytes must be a positive number; received ${bucketBytes}`);
    let current: Bucket | undefined;
    let bytes = 0;
    for (const v of [...variables].reverse()) {
      if (v.dtype !== 'float32')
        throw new ValueError(`fit: distributed training averages float32 variables; one is ${v.dtype} [${v.shape.join(', ')}]`);
      if (!current || bytes + v.size * 4 > bucketBytes) {
        current = { variables: [], grads: new Map() };
        this.buckets.push(current);
        bytes = 0;
      }
      current.variables.push(v);
      bytes += v.size * 4;
      this.bucketOf.set(v, current);
    }
    this.overlap = variables.every((v) => v.backend.name === 'native');
  }

  /** How many buckets the variables form. */
  get count(): number {
    return this.buckets.length;
  }

  /** Starts a step in which this rank holds `share` of the global batch (its samples / all samples). */
  begin(share: number): void {
    this.share = share;
    this.launched = 0;
    this.step++;
    for (const b of this.buckets) {
      b.grads.clear();
      b.sums = undefined;
      b.done = undefined;
    }
  }

  /** A variable's gradient is final (the backward pass will not add to it again). */
  ready(variable: Tensor, grad: Tensor): void {
    const bucket = this.bucketOf.get(variable);
    if (!bucket) return;
    bucket.grads.set(variable, grad);
    if (this.overlap) this.launchReady();
  }

  /** Starts, in order, every bucket whose gradients are all final. */
  private launchReady(): void {
    while (this.launched < this.buckets.length) {
      const b = this.buckets[this.launched];
      if (b.grads.size < b.variables.length) return;
      this.launch(b);
    }
  }

  private launch(b: Bucket): void {
    const inputs = b.variables.map((v) => {
      const g = b.grads.get(v);
      if (g) return g;
      // No gradient on this rank (the variable did not take part): it adds nothing to the sum.
      const z = zerosLike(v);
      this.zeros.push(z);
      return z;
    });
    b.sums = b.variables.map((v) => zerosLike(v));
    b.done = watched(
      `the gradients of step ${this.step} (bucket ${this.launched + 1} of ${this.buckets.length})`,
      this.comm.allreduce(inputs, { preScale: this.share }, b.sums),
    );
    this.launched++;
  }

  /**
   * After the backward pass: starts what has not started, waits for every bucket, and returns
   * each variable's averaged gradient (new tensors the caller disposes).
   */
  async finish(): Promise<Map<Tensor, Tensor>> {
    while (this.launched < this.buckets.length) this.launch(this.buckets[this.launched]);
    const out = new Map<Tensor, Tensor>();
    try {
      for (const b of this.buckets) {
        await b.done;
        b.variables.forEach((v, i) => out.set(v, b.sums![i]));
      }
    } finally {
      for (const z of this.zeros.splice(0)) z.dispose();
    }
    return out;
  }
}
