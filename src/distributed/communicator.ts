// The collectives distributed training needs, as an interface the trainer calls and a platform
// provides (Note [Platforms] in core/platform.ts): Node installs MPI through the native addon
// (src/node/mpi-communicator.ts); a page has none, and st.distributed.available() says so.

import { StrataError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';

/** A collective that failed or timed out; every rank of the job should stop (restart it from a checkpoint). */
export class DistributedError extends StrataError {}

/** Options of an allreduce of tensors (summed over the ranks). */
export interface ReduceScales {
  /** Each rank's input is multiplied by this before the sum (a per-rank weight); default 1. */
  preScale?: number;
  /** The sum is multiplied by this (1 / size for a mean); default 1. */
  postScale?: number;
}

/** One process's view of the job: its rank among `size`, and the collectives over all of them. */
export interface Communicator {
  readonly rank: number;
  readonly size: number;
  /** What carries the messages, e.g. "Open MPI v4.1.4". */
  readonly library: string;
  /**
   * Sums float32 tensors over the ranks, into `outs` (new tensors of the same shapes) or, when
   * `outs` is omitted, into the inputs' own storage. Several tensors travel as one message.
   */
  allreduce(tensors: readonly Tensor[], scales?: ReduceScales, outs?: readonly Tensor[]): Promise<void>;
  /** Sums host values over the ranks in place (float64 sums stay exact for counts). */
  allreduceHost(values: Float32Array | Float64Array, postScale?: number): Promise<void>;
  /** Overwrites the tensors' storage with rank `root`'s. */
  broadcast(tensors: readonly Tensor[], root: number): Promise<void>;
  broadcastHost(values: Float32Array | Float64Array | Uint8Array | Int32Array, root: number): Promise<void>;
  /** Every rank's `values`, rank by rank, on every rank. */
  allgather(values: Float64Array): Promise<Float64Array>;
  barrier(): Promise<void>;
  /** Collectives started and not yet finished. */
  pending(): number;
  /** Ends the communicator; false when a collective was stuck and could not be waited for. */
  finalize(timeoutSeconds: number): boolean;
  /** Ends every process of the job at once (MPI_Abort). */
  abort(code: number): void;
}

/** What a platform offers: why it cannot (undefined when it can), and the way to start. */
export interface CommunicatorProvider {
  unavailableReason(): string | undefined;
  init(): Communicator;
  /** How many ranks of the job run on this host (they share its cores). */
  ranksOnThisHost?(): number;
}

let provider: CommunicatorProvider | undefined;

/** Installed by the Node entry (src/node/install.ts). */
export function setCommunicatorProvider(p: CommunicatorProvider): void {
  provider = p;
}

export function communicatorProvider(): CommunicatorProvider | undefined {
  return provider;
}
