// The Communicator over MPI: the native addon's collectives (native/src/mpi.cc, Note [One
// communication thread]). Tensors on the native backend are reduced where their storage lies,
// with no copy; tensors of another CPU backend (wasm, reference) go through a host copy.

import { loadAddon, type NativeAddon } from '../backend/native/addon.js';
import { DtypeError, ValueError } from '../core/errors.js';
import type { Communicator, CommunicatorProvider, ReduceScales } from '../distributed/communicator.js';
import type { TypedArray } from '../core/dtype.js';
import { Tensor } from '../tensor/tensor.js';

/** How long a clean exit waits in MPI_Finalize for the other ranks to finish. */
const FINALIZE_SECONDS = 600;

let addon: NativeAddon | undefined;
let loadError: string | undefined;

function getAddon(): NativeAddon | undefined {
  if (addon || loadError) return addon;
  try {
    addon = loadAddon();
  } catch (e) {
    loadError = `the native backend is not available (${(e as Error).message})`;
  }
  return addon;
}

function checkFloat32(op: string, tensors: readonly Tensor[]): void {
  for (const t of tensors)
    if (t.dtype !== 'float32')
      throw new DtypeError(`distributed: ${op} takes float32 tensors; received one of dtype ${t.dtype} and shape [${t.shape.join(', ')}]`);
}

/** Writes host values into a tensor of a non-native backend (keeping its identity, as assign does). */
function replaceValues(t: Tensor, values: TypedArray): void {
  const fresh = new Tensor(t.backend.upload(values, t.dtype), t.shape, t.dtype, t.backend);
  t.assign(fresh);
  fresh.dispose();
}

class MpiCommunicator implements Communicator {
  readonly rank: number;
  readonly size: number;
  readonly library: string;

  constructor(private readonly native: NativeAddon) {
    const info = native.mpiInit();
    this.rank = info.rank;
    this.size = info.size;
    this.library = info.library;
    // mpirun counts a process that exits without MPI_Finalize as failed, so a clean exit
    // finalizes. A failing one does not: mpirun then ends the other ranks, instead of this
    // process waiting in MPI_Finalize for ranks that are still inside a collective. OpenMPI's
    // finalize waits for every rank to reach it, so a rank that finishes first waits there
    // while rank 0 tests the model and writes its pictures: hence the generous bound.
    process.once('exit', (code) => {
      if (code === 0) native.mpiFinalize(FINALIZE_SECONDS);
    });
  }

  async allreduce(tensors: readonly Tensor[], scales: ReduceScales = {}, outs?: readonly Tensor[]): Promise<void> {
    if (!tensors.length) return;
    checkFloat32('allreduce', [...tensors, ...(outs ?? [])]);
    if (outs && (outs.length !== tensors.length || outs.some((o, i) => o.size !== tensors[i].size)))
      throw new ValueError('distributed: allreduce needs one output of the same size per input');
    const pre = scales.preScale ?? 1,
      post = scales.postScale ?? 1;
    const onNative = [...tensors, ...(outs ?? [])].every((t) => t.backend.name === 'native');
    if (onNative) {
      return this.native.mpiAllreduce(
        tensors.map((t) => t.storage),
        (outs ?? []).map((t) => t.storage),
        pre,
        post,
      );
    }
    // Another CPU backend: one host message, summed in float32 like the native path.
    const total = tensors.reduce((n, t) => n + t.size, 0);
    const message = new Float32Array(total);
    let at = 0;
    for (const t of tensors) {
      const values = await t.data();
      for (let i = 0; i < t.size; i++) message[at + i] = (values[i] as number) * pre;
      at += t.size;
    }
    await this.native.mpiAllreduceHost(message, post);
    at = 0;
    (outs ?? tensors).forEach((t) => {
      const part = message.subarray(at, at + t.size);
      at += t.size;
      replaceValues(t, part);
    });
  }

  allreduceHost(values: Float32Array | Float64Array, postScale = 1): Promise<void> {
    return this.native.mpiAllreduceHost(values, postScale);
  }

  async broadcast(tensors: readonly Tensor[], root: number): Promise<void> {
    if (tensors.every((t) => t.backend.name === 'native')) {
      return this.native.mpiBroadcast(
        tensors.map((t) => t.storage),
        root,
      );
    }
    for (const t of tensors) {
      const values = (await t.data()).slice();
      await this.native.mpiBroadcastHost(values, root);
      replaceValues(t, values);
    }
  }

  broadcastHost(values: Float32Array | Float64Array | Uint8Array | Int32Array, root: number): Promise<void> {
    return this.native.mpiBroadcastHost(values, root);
  }

  async allgather(values: Float64Array): Promise<Float64Array> {
    const out = new Float64Array(values.length * this.size);
    await this.native.mpiAllgatherHost(values, out);
    return out;
  }

  barrier(): Promise<void> {
    return this.native.mpiBarrier();
  }

  pending(): number {
    return this.native.mpiPending();
  }

  finalize(timeoutSeconds: number): boolean {
    return this.native.mpiFinalize(timeoutSeconds);
  }

  abort(code: number): void {
    this.native.mpiAbort(code);
  }
}

export const mpiProvider: CommunicatorProvider = {
  unavailableReason() {
    const a = getAddon();
    if (!a) return loadError;
    return a.mpiStatus() || undefined;
  },
  init() {
    const a = getAddon();
    if (!a) throw new ValueError(`distributed: ${loadError}`);
    const why = a.mpiStatus();
    if (why) throw new ValueError(`distributed: ${why}`);
    return new MpiCommunicator(a);
  },
  ranksOnThisHost() {
    // Set by mpirun for each process (OpenMPI; MPICH's Hydra sets MPI_LOCALNRANKS).
    const n = Number(process.env.OMPI_COMM_WORLD_LOCAL_SIZE ?? process.env.MPI_LOCALNRANKS ?? 1);
    return Number.isInteger(n) && n > 0 ? n : 1;
  },
};
