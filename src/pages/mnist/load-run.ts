// Models trained by `strata train`, from the server's runs folder: /api/runs lists the runs, and a
// run's folder holds model.json (with weights.safetensors beside it) and classes.json (the class
// names, and the images' background brightness). st.loadModel fetches a model by its URL.
import * as st from '../../browser.js';
import { SIDE } from './preprocess.js';
import type { Classifier } from './reader.js';

export interface RunInfo {
  name: string;
  files: string[];
  modified: number;
}

/** What classes.json holds that the page uses (src/cli/run-record.ts writes it). */
interface RunRecord {
  classNames?: string[];
  imageSize?: [number, number];
  color?: boolean;
  /** The training images' mean border brightness: near 1 for dark ink on white. */
  background?: { border: number };
}

const runUrl = (run: string, file: string) => `/api/runs/${encodeURIComponent(run)}/${file}`;

/** The runs that hold a saved model, newest first (as the server lists them). */
export async function listModelRuns(): Promise<RunInfo[]> {
  const response = await fetch('/api/runs');
  if (!response.ok) throw new Error(`/api/runs: the server answered ${response.status}`);
  const runs = (await response.json()) as RunInfo[];
  return runs.filter((r) => r.files.includes('model.json'));
}

/** A JSON file of a run, or undefined when the run has none or it cannot be read (these files only add detail). */
async function runJson<T>(run: RunInfo, file: string): Promise<T | undefined> {
  if (!run.files.includes(file)) return undefined;
  const response = await fetch(runUrl(run.name, file));
  return response.ok ? ((await response.json().catch(() => undefined)) as T | undefined) : undefined;
}

/** The test accuracy `strata train` measured at the end of the run (history.json), if it finished. */
export async function testAccuracy(run: RunInfo): Promise<number | undefined> {
  const history = await runJson<{ test?: { accuracy?: number } }>(run, 'history.json');
  return history?.test?.accuracy;
}

/** The model of a run with its class names, checked to take one 28x28 grayscale image. */
export async function loadRun(run: RunInfo): Promise<Classifier> {
  const model = await st.loadModel(runUrl(run.name, 'model.json'));
  const record = (await runJson<RunRecord>(run, 'classes.json')) ?? {};
  const shape = model.inputs[0]?.shape.slice(1) ?? [];
  const size = shape.reduce((a: number, d) => a * (d ?? 0), 1);
  if (size !== SIDE * SIDE)
    throw new Error(`${run.name} takes inputs of shape [${shape.join(', ')}]; the pad makes 28x28 grayscale digits (784 values)`);
  const outputs = model.outputs[0]?.shape.at(-1) ?? 0;
  const classNames = record.classNames?.length === outputs ? record.classNames : Array.from({ length: outputs ?? 0 }, (_, i) => String(i));
  return { model, classNames, invert: (record.background?.border ?? 0) > 0.5, source: `run ${run.name}` };
}
