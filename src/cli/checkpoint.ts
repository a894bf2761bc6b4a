// The resume point of an interrupted `strata train`. It travels inside the saved model's
// model.json (userDefinedMetadata), so the weights, the optimizer state and the position they
// belong to are written as one atomic save and verified together on --resume (Note [Atomic
// model saves]); a separate checkpoint file could be torn from them by a kill between writes.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as st from '../index.js';

/** The options of `strata train`, as main.ts parses them and a checkpoint records them. */
export interface TrainOptions {
  /** A built-in model name or a .json file; default convnet for images, mlp for CSV rows. */
  model?: string;
  dataset: string;
  imageSize?: [number, number];
  color?: boolean;
  labelColumn?: string;
  epochs: number;
  batchSize: number;
  optimizer: string;
  learningRate?: number;
  validationSplit: number;
  backend?: string;
  seed: number;
  out?: string;
  resume?: string;
  limit?: number;
  verbose: 0 | 1 | 2;
}

// Note [A checkpoint at every epoch's end]
// Ctrl-C writes a checkpoint where training stopped; a process that is killed (the machine's
// out-of-memory killer, a rank of a distributed job dying, kill -9) writes nothing. So
// `strata train` also saves a checkpoint after every epoch but the last (whose end saves the
// finished model): a killed run loses at most the epoch it was in, and `--resume` continues
// from the last one. The saves are atomic (Note [Atomic model saves]), so a kill during one
// leaves the previous checkpoint whole.

/** What a checkpoint holds besides the saved model: enough to continue the same run. */
export interface Checkpoint {
  options: TrainOptions;
  position: st.TrainingPosition;
  history: { epoch: number[]; history: Record<string, number[]> };
  epochSeconds: number[];
}

const KEY = 'strataCheckpoint';
/** Where earlier versions kept the checkpoint, beside model files it could be torn from. */
const LEGACY_FILE = 'checkpoint.json';

/** Marks the model's next save as a checkpoint of this run. */
export function attachCheckpoint(model: st.Model, checkpoint: Checkpoint): void {
  model.setUserDefinedMetadata({ ...model.getUserDefinedMetadata(), [KEY]: checkpoint });
}

/** The run finished: its final save is a model, not a resume point. */
export function clearCheckpoint(model: st.Model): void {
  const { [KEY]: _dropped, ...rest } = model.getUserDefinedMetadata() ?? {};
  model.setUserDefinedMetadata(Object.keys(rest).length ? rest : undefined);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number) => Number.isSafeInteger(v) && (v as number) >= min;
const isNumberList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null);
const isFiniteList = (v: unknown) => Array.isArray(v) && v.every((x) => Number.isFinite(x));
const optional = (v: unknown, ok: (v: unknown) => boolean) => v === undefined || ok(v);

/** The fields of a checkpoint that are wrong, if any (the file is not trusted: it came from disk). */
function problems(c: unknown): string[] {
  if (!isObject(c)) return ['the checkpoint is not an object'];
  const out: string[] = [];
  const o = c.options,
    p = c.position,
    h = c.history;
  if (!isObject(o)) out.push('options');
  else {
    const checks: [string, boolean][] = [
      ['dataset', typeof o.dataset === 'string'],
      ['epochs', isInt(o.epochs, 1)],
      ['batchSize', isInt(o.batchSize, 1)],
      ['optimizer', typeof o.optimizer === 'string'],
      ['validationSplit', typeof o.validationSplit === 'number' && o.validationSplit >= 0 && o.validationSplit < 1],
      ['seed', isInt(o.seed, 0)],
      ['verbose', [0, 1, 2].includes(o.verbose as number)],
      ['model', optional(o.model, (v) => typeof v === 'string')],
      ['imageSize', optional(o.imageSize, (v) => Array.isArray(v) && v.length === 2 && v.every((d) => isInt(d, 1)))],
      ['color', optional(o.color, (v) => typeof v === 'boolean')],
      ['labelColumn', optional(o.labelColumn, (v) => typeof v === 'string')],
      ['learningRate', optional(o.learningRate, (v) => typeof v === 'number' && Number.isFinite(v))],
      ['backend', optional(o.backend, (v) => typeof v === 'string')],
      ['limit', optional(o.limit, (v) => isInt(v, 1))],
    ];
    for (const [name, ok] of checks) if (!ok) out.push(`options.${name}`);
  }
  if (!isObject(p) || !isInt(p.epoch, 0) || !isInt(p.batch, 0) || !isObject(p.rng) || !isObject(p.rngAtEpochStart)) out.push('position');
  else if (
    !optional(
      p.epochSoFar,
      (s) => isObject(s) && isInt(s.seen, 1) && isFiniteList(s.lossSums) && Array.isArray(s.metrics) && s.metrics.every(isFiniteList),
    )
  )
    out.push('position.epochSoFar');
  if (
    !isObject(h) ||
    !Array.isArray(h.epoch) ||
    !h.epoch.every((e) => isInt(e, 0)) ||
    !isObject(h.history) ||
    !Object.values(h.history).every(isNumberList)
  )
    out.push('history');
  if (!isNumberList(c.epochSeconds)) out.push('epochSeconds');
  return out;
}

/**
 * Loads the checkpoint of an interrupted run from `dir`: the model (verified file by file) and
 * its resume point. Anything unusable is a StrataError that says which file and what to do.
 */
export async function readCheckpoint(dir: string): Promise<{ model: st.Model; checkpoint: Checkpoint }> {
  const what = `--resume: ${dir}`;
  if (!existsSync(join(dir, 'model.json'))) {
    throw new st.ValueError(`${what} holds no checkpoint (no model.json); resume from the folder of a strata train that was interrupted with Ctrl-C`);
  }
  let model: st.Model;
  try {
    model = await st.loadModel(dir);
  } catch (e) {
    if (!(e instanceof st.StrataError)) throw e;
    throw new st.FormatError(
      `${what}: the checkpoint cannot be used: ${e.message}. Nothing was changed; start the run again without --resume (or restore the folder from a backup)`,
    );
  }
  const checkpoint = model.getUserDefinedMetadata()?.[KEY];
  const source = join(dir, 'model.json');
  if (checkpoint === undefined && existsSync(join(dir, LEGACY_FILE))) {
    // Such a checkpoint cannot be proven to match the weights beside it, so it is not used.
    throw new st.ValueError(
      `${what}: ${LEGACY_FILE} was written by an earlier Strata whose checkpoints cannot be verified against the weights; start the run again without --resume`,
    );
  }
  if (checkpoint === undefined) {
    throw new st.ValueError(
      `${what} holds a finished model, not a checkpoint: its run completed. Use strata evaluate or predict on it, or train anew with --out`,
    );
  }
  const bad = problems(checkpoint);
  if (bad.length)
    throw new st.FormatError(
      `${what}: ${source}: the checkpoint's ${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} missing or malformed. Start the run again without --resume`,
    );
  return { model, checkpoint: checkpoint as Checkpoint };
}
