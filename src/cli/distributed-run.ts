// `strata train --distributed`: one rank of a data-parallel job that mpirun started
// (docs/distributed.md). Every rank reads the data, builds the same model and trains its shard;
// rank 0 alone prints, writes the run folder and its checkpoints, and tests the result.

import * as st from '../index.js';
import type { Checkpoint, TrainOptions } from './checkpoint.js';
import type { LabelledData } from './datasets.js';
import { interruptOnSigint } from './interrupt.js';

/** Joins the job (MPI_Init), or says what is missing. */
export async function joinJob(): Promise<st.DistributedInfo> {
  if (!st.distributed.available()) throw new st.ValueError(`--distributed: ${st.distributed.unavailableReason()}`);
  return st.distributed.init();
}

/**
 * fit's options for the run. --batch-size is the global batch: each of the job's N ranks trains
 * on batch-size / N samples per step, so a run and its checkpoint mean the same training
 * whatever the number of ranks.
 */
export function fitOptions(options: TrainOptions, previous: Checkpoint | undefined, job: st.DistributedInfo | undefined): st.FitArgs {
  if (job && options.batchSize % job.size !== 0)
    throw new st.ValueError(
      `--batch-size ${options.batchSize} must be a multiple of the job's ${job.size} ranks: it is the global batch, and each rank trains on an equal part of it`,
    );
  return {
    epochs: options.epochs,
    batchSize: job ? options.batchSize / job.size : options.batchSize,
    validationSplit: options.validationSplit,
    ...(previous ? { resumeFrom: previous.position } : {}),
    ...(job ? { distributed: true } : {}),
  };
}

/** A rank other than 0: trains its shard in step with the others, silently, and writes nothing. */
export async function trainAsFollower(
  model: st.Model,
  data: LabelledData,
  options: TrainOptions,
  previous: Checkpoint | undefined,
  job: st.DistributedInfo,
): Promise<void> {
  // A SIGINT sent to this rank stops the job at the end of the step, as on rank 0 (the ranks
  // agree to stop), and rank 0 writes the checkpoint.
  const sigint = interruptOnSigint(model, true);
  try {
    await model.fit(data.xTrain, data.yTrain, { ...fitOptions(options, previous, job), verbose: 0 });
  } finally {
    sigint.dispose();
  }
}
