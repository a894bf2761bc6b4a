// st.distributed: data-parallel training over MPI (docs/distributed.md). Start every process
// with mpirun, call `await st.distributed.init()` in each, then `model.fit(x, y, {distributed:
// true})`; or use the collectives below directly, as with Horovod's hvd.* or torch.distributed.

import { checkKeys, checkOneOf } from '../core/options.js';
import { ValueError, fmtValue } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { zerosLike } from '../tensor/create.js';
import { clone } from '../ops/tfjs-aliases.js';
import { noGrad } from '../tensor/tape.js';
import { communicatorProvider } from './communicator.js';
import { currentCommunicator, endCommunicator, requireCommunicator, startCommunicator, watched } from './context.js';

export { DistributedError } from './communicator.js';

/** Options of `st.distributed.init()`. */
export interface DistributedInitOptions {
  /**
   * Seconds a collective may wait for the other ranks before this process gives up with a
   * DistributedError (Note [A dead rank must not hang the others]); default 60, or the
   * STRATA_DISTRIBUTED_TIMEOUT environment variable.
   */
  timeoutSeconds?: number;
}

/** What `st.distributed.init()` resolves to. */
export interface DistributedInfo {
  /** This process's rank, 0 to size - 1. */
  rank: number;
  /** The number of processes in the job. */
  size: number;
  /** The MPI library, e.g. "Open MPI v4.1.4". */
  library: string;
}

function checkTensor(op: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new ValueError(`${op}: expected a tensor; received ${fmtValue(t)}`);
}

/**
 * Data-parallel training over MPI (docs/distributed.md): joining the job, this process's rank,
 * and the collectives. `model.fit(x, y, {distributed: true})` uses them for you.
 * @example
 * ```ts
 * const { rank, size } = await st.distributed.init(); // in every process mpirun started
 * const total = await st.distributed.allreduce(st.tensor([rank]), { op: 'sum' });
 * ```
 */
export const distributed = {
  /** Whether this process can join a distributed job (Node, and the native addon built with MPI). */
  available(): boolean {
    return communicatorProvider()?.unavailableReason() === undefined && communicatorProvider() !== undefined;
  },

  /** Why `available()` is false (what to install), or undefined when it is true. */
  unavailableReason(): string | undefined {
    const p = communicatorProvider();
    if (!p) return 'distributed training runs in Node, with the native addon built against MPI (Debian libopenmpi-dev)';
    return p.unavailableReason();
  },

  /**
   * Joins the job mpirun started (MPI_Init); a process started without mpirun is a job of one.
   * Call it once in every process before any other collective or a distributed fit.
   */
  async init(options: DistributedInitOptions = {}): Promise<DistributedInfo> {
    checkKeys('distributed.init', options, ['timeoutSeconds']);
    const c = startCommunicator(options.timeoutSeconds);
    return { rank: c.rank, size: c.size, library: c.library };
  },

  /** Whether init() has run (and finalize() has not). */
  get initialized(): boolean {
    return currentCommunicator() !== undefined;
  },

  /** This process's rank, 0 to size - 1 (0 before init: a job of one). */
  get rank(): number {
    return currentCommunicator()?.rank ?? 0;
  },

  /** The number of processes in the job (1 before init). */
  get size(): number {
    return currentCommunicator()?.size ?? 1;
  },

  /**
   * The sum (or mean) of a float32 tensor over all ranks, in a new tensor; with `inPlace` the
   * result is written into `t`'s own storage (every tensor sharing it sees the change) and `t`
   * is returned. Every rank must call it, in the same order as its other collectives.
   */
  async allreduce(t: Tensor, options: { op?: 'sum' | 'mean'; inPlace?: boolean } = {}): Promise<Tensor> {
    checkTensor('distributed.allreduce', t);
    checkKeys('distributed.allreduce', options, ['op', 'inPlace']);
    const op = checkOneOf('distributed.allreduce', 'op', options.op ?? 'sum', ['sum', 'mean'] as const);
    const c = requireCommunicator('distributed.allreduce');
    const scales = { postScale: op === 'mean' ? 1 / c.size : 1 };
    if (options.inPlace) {
      await watched('an allreduce', c.allreduce([t], scales));
      return t;
    }
    const out = zerosLike(t);
    await watched('an allreduce', c.allreduce([t], scales, [out]));
    return out;
  },

  /** Rank `root`'s value of `t` (default 0), on every rank, in a new tensor (or in `t` with `inPlace`). */
  async broadcast(t: Tensor, options: { root?: number; inPlace?: boolean } = {}): Promise<Tensor> {
    checkTensor('distributed.broadcast', t);
    checkKeys('distributed.broadcast', options, ['root', 'inPlace']);
    const c = requireCommunicator('distributed.broadcast');
    const root = options.root ?? 0;
    if (!Number.isInteger(root) || root < 0 || root >= c.size)
      throw new ValueError(`distributed.broadcast: root must be a rank from 0 to ${c.size - 1}; received ${fmtValue(options.root)}`);
    const target = options.inPlace ? t : noGrad(() => clone(t));
    await watched('a broadcast', c.broadcast([target], root));
    return target;
  },

  /** Every rank's numbers, in rank order (each rank must give as many). For metrics and counts. */
  async allgather(values: readonly number[]): Promise<number[][]> {
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'number'))
      throw new ValueError(`distributed.allgather: expected an array of numbers; received ${fmtValue(values)}`);
    const c = requireCommunicator('distributed.allgather');
    const all = await watched('an allgather', c.allgather(Float64Array.from(values)));
    return Array.from({ length: c.size }, (_, r) => Array.from(all.subarray(r * values.length, (r + 1) * values.length)));
  },

  /** Waits until every rank has reached this point. */
  async barrier(): Promise<void> {
    const c = requireCommunicator('distributed.barrier');
    await watched('a barrier', c.barrier());
  },

  /**
   * Leaves the job (MPI_Finalize). Done for you when the process exits; after it no collective
   * works and init() cannot run again. False when a collective was stuck.
   */
  finalize(): boolean {
    return endCommunicator();
  },
};
