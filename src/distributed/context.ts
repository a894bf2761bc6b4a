// The process's place in a distributed job: the communicator once st.distributed.init() has
// run, and the watchdog every collective goes through.

import { setNumThreads } from '../backend/registry.js';
import { StrataError, ValueError, fmtValue } from '../core/errors.js';
import { platform } from '../core/platform.js';
import { communicatorProvider, DistributedError, type Communicator } from './communicator.js';

// Note [A dead rank must not hang the others]
// A collective waits for every rank. When one dies, mpirun usually ends the whole job at once
// (it notices the exit and signals the others); but a rank that hangs, or a host whose network
// drops, leaves the others waiting forever inside MPI. So every collective races a watchdog
// timer (60 s by default, `init({timeoutSeconds})` or STRATA_DISTRIBUTED_TIMEOUT): when it fires,
// the communicator is abandoned (its thread is left behind and no longer keeps the process
// alive) and the collective rejects with a DistributedError that says what to do. The error
// ends fit, the process exits with an error, and mpirun then ends the job; a checkpoint written
// before resumes it. The timer is unreferenced: it never keeps a finished process alive.
const DEFAULT_TIMEOUT_SECONDS = 60;

let communicator: Communicator | undefined;
let timeoutMs = DEFAULT_TIMEOUT_SECONDS * 1000;
let abandoned = false;

function envTimeout(): number | undefined {
  const text = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.STRATA_DISTRIBUTED_TIMEOUT;
  if (text === undefined || text === '') return undefined;
  const v = Number(text);
  if (!(v > 0)) throw new ValueError(`STRATA_DISTRIBUTED_TIMEOUT must be a positive number of seconds; received ${JSON.stringify(text)}`);
  return v;
}

/** Starts the communicator (once per process); returns it. */
export function startCommunicator(timeoutSeconds: number | undefined): Communicator {
  if (timeoutSeconds !== undefined && !(typeof timeoutSeconds === 'number' && timeoutSeconds > 0))
    throw new ValueError(`distributed.init: timeoutSeconds must be a positive number; received ${fmtValue(timeoutSeconds)}`);
  if (communicator) return communicator;
  if (abandoned) throw new DistributedError('distributed: this process abandoned its communicator after a timeout; start a new job');
  const provider = communicatorProvider();
  if (!provider)
    throw new ValueError('distributed: this platform has no communicator (distributed training runs in Node with the native addon built with MPI)');
  timeoutMs = (timeoutSeconds ?? envTimeout() ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  communicator = provider.init();
  shareCores(provider.ranksOnThisHost?.() ?? 1);
  return communicator;
}

/**
 * Ranks on one host share its cores: each gets cores / ranks threads (at least one), as torchrun
 * sets OMP_NUM_THREADS, instead of every rank starting a thread per core and all of them
 * fighting for the cores. An explicit OMP_NUM_THREADS or st.setNumThreads() call afterwards wins.
 */
function shareCores(ranksHere: number): void {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (ranksHere <= 1 || env?.OMP_NUM_THREADS) return;
  setNumThreads(Math.max(1, Math.floor(platform().cores() / ranksHere)));
}

/** The communicator, or undefined before init (and after finalize). */
export function currentCommunicator(): Communicator | undefined {
  return communicator;
}

/** The communicator, or a clear error naming `op` when init() has not run. */
export function requireCommunicator(op: string): Communicator {
  if (communicator) return communicator;
  throw new ValueError(`${op}: call \`await st.distributed.init()\` first (in every process of the job, started by mpirun)`);
}

/** Ends the communicator (MPI_Finalize, which waits for every rank to reach it); false when that took longer than `timeoutSeconds`. */
export function endCommunicator(timeoutSeconds = 600): boolean {
  if (!communicator) return true;
  const c = communicator;
  communicator = undefined;
  return c.finalize(timeoutSeconds);
}

/** `work` with the watchdog of Note [A dead rank must not hang the others]; `what` names it in the error. */
export function watched<T>(what: string, work: Promise<T>): Promise<T> {
  const c = communicator;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (c && communicator === c) {
        communicator = undefined;
        abandoned = true;
        c.finalize(0);
      }
      reject(
        new DistributedError(
          `distributed: rank ${c?.rank ?? '?'} of ${c?.size ?? '?'} waited ${timeoutMs / 1000} s for ${what} and the other ranks never answered: ` +
            'one of them has died or hangs (see its output). This process stops here; restart the job, from its last checkpoint if it wrote one (strata train --resume DIR)',
        ),
      );
    }, timeoutMs);
    (timer as { unref?: () => void }).unref?.();
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        // A refusal of bad input stays what it is; a failure inside MPI becomes a DistributedError.
        reject(e instanceof Error && !(e instanceof StrataError) ? new DistributedError(e.message) : e);
      },
    );
  });
}
