// Ctrl-C during `strata train`: the first one stops training at the end of the step (a
// checkpoint follows), the second ends the process.
import type * as st from '../index.js';

/**
 * Stops fit at the end of the current batch on the first Ctrl-C; a second one exits at once.
 * `quiet` for a rank other than 0 of a distributed job, which prints nothing.
 */
export function interruptOnSigint(model: st.Model, quiet = false): { interrupted: () => boolean; dispose: () => void } {
  let count = 0;
  const handler = () => {
    count++;
    if (count > 1) process.exit(130);
    if (!quiet) process.stderr.write('\nInterrupted: finishing this step and writing a checkpoint (Ctrl-C again to quit now)\n');
    model.stopTraining = true;
  };
  process.on('SIGINT', handler);
  return { interrupted: () => count > 0, dispose: () => process.off('SIGINT', handler) };
}
