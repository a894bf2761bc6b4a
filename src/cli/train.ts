import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as st from '../index.js';
import { attachCheckpoint, clearCheckpoint, readCheckpoint, type Checkpoint, type TrainOptions } from './checkpoint.js';
export type { TrainOptions } from './checkpoint.js';
import { BUILTIN_MODELS, type BuiltinModel } from './builtin-models.js';
import { absoluteSpec, loadDataset, samples, unit, type LabelledData } from './datasets.js';
import { makeRecord, recordText } from './run-record.js';
import { writeRunOutputs } from './run-outputs.js';
import { type DashboardOptions, serveUntilInterrupted, startDashboard } from './dashboard.js';
import { LiveLog, runConfig } from './live-log.js';
import { fitOptions, joinJob, trainAsFollower } from './distributed-run.js';
import { interruptOnSigint } from './interrupt.js';

/** The model named by --model, checked before any data is read: a built-in's name, or the parsed .json file. */
type ModelSource = { builtin: BuiltinModel } | { file: string; json: { format?: string; className?: string; config?: Record<string, unknown> } };

async function readModelSpec(spec: string): Promise<ModelSource> {
  if (Object.hasOwn(BUILTIN_MODELS, spec)) return { builtin: spec as BuiltinModel };
  if (!spec.endsWith('.json'))
    throw new st.ValueError(
      `--model: expected ${Object.keys(BUILTIN_MODELS).join(', ')} or a path to a model .json file; received ${JSON.stringify(spec)}`,
    );
  const text = await readFile(spec, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new st.ValueError(`--model: cannot read ${spec} (${e.code ?? e.message})`);
  });
  try {
    return { file: spec, json: JSON.parse(text) };
  } catch (e) {
    throw new st.FormatError(`${spec}: not valid JSON (${(e as Error).message})`);
  }
}

async function buildModel(source: ModelSource, data: LabelledData): Promise<st.Model> {
  if ('builtin' in source) return BUILTIN_MODELS[source.builtin](data.xTrain.shape.slice(1), data.classNames.length);
  const { file, json } = source;
  // A saved model's model.json brings its weights; a bare {className, config} is an architecture.
  if (json.format === 'strata-model') return st.loadModel(dirname(file), { compile: false });
  const layer = st.layers.deserialize(json as { className: string; config: Record<string, unknown> });
  if (!(layer instanceof st.Model)) throw new st.ValueError(`${file}: describes a ${layer.className} layer, not a model`);
  return layer;
}

/** A shape as Keras prints it: (None, 28, 28, 1). */
export const shapeText = (shape: readonly (number | null)[]) => `(${shape.map((d) => d ?? 'None').join(', ')})`;

/** Refuses a model whose input or output cannot take the data, naming both shapes, instead of failing inside fit. */
export function checkModelFits(model: st.Model, data: LabelledData, what: string, dataset: string): void {
  const input = model.inputs[0]?.shape;
  const sample = [null, ...data.xTrain.shape.slice(1)];
  if (input && (input.length !== sample.length || input.some((d, i) => i > 0 && d !== null && d !== sample[i]))) {
    throw new st.ValueError(`${what} takes inputs of shape ${shapeText(input)}; ${dataset} gives ${shapeText(sample)}`);
  }
  const units = model.outputs[0]?.shape.at(-1);
  if (typeof units === 'number' && units < data.classNames.length) {
    throw new st.ValueError(`${what} has ${units} outputs; ${dataset} has ${data.classNames.length} classes`);
  }
}

/** Seconds with three significant digits: a CSV run's 0.153 s does not print as 0.0 s. */
export function formatSeconds(s: number): string {
  return s >= 100 ? s.toFixed(0) : s >= 0.001 ? s.toPrecision(3) : s.toExponential(1);
}

function makeOptimizer(o: TrainOptions): st.Optimizer {
  const make = st.optimizers[o.optimizer as keyof typeof st.optimizers] as ((args?: { learningRate?: number }) => st.Optimizer) | undefined;
  if (!make)
    throw new st.ValueError(`--optimizer: expected one of ${Object.keys(st.optimizers).join(', ')}; received ${JSON.stringify(o.optimizer)}`);
  return make(o.learningRate === undefined ? {} : { learningRate: o.learningRate });
}

/** Joins the history of a resumed run onto what the checkpoint recorded (the interrupted epoch is replaced). */
function mergeHistory(before: Checkpoint['history'] | undefined, after: Checkpoint['history']): Checkpoint['history'] {
  const merged = {
    epoch: [...(before?.epoch ?? [])],
    history: Object.fromEntries(Object.entries(before?.history ?? {}).map(([k, v]) => [k, [...v]])),
  };
  after.epoch.forEach((e, i) => {
    let at = merged.epoch.indexOf(e);
    if (at < 0) {
      at = merged.epoch.length;
      merged.epoch.push(e);
    }
    for (const [k, v] of Object.entries(after.history)) (merged.history[k] ??= [])[at] = v[i];
  });
  return merged;
}

/** How `strata train` runs, decided anew on --resume (a checkpoint does not record them). */
export interface RunOptions {
  /** Serve the run live on the dashboard page. */
  dashboard?: DashboardOptions;
  /** One rank of a data-parallel job started by mpirun (docs/distributed.md). */
  distributed?: boolean;
}

/** `strata train`: the main job, end to end; with `dashboard`, served live on the dashboard page. */
export async function train(cli: TrainOptions, run: RunOptions = {}): Promise<void> {
  // Joined first: every rank reads the data and builds the model, rank 0 alone writes and prints.
  const job = run.distributed ? await joinJob() : undefined;
  const lead = !job || job.rank === 0;
  const { dashboard } = run;
  let previous: Checkpoint | undefined;
  let resumed: st.Model | undefined;
  let options = cli;
  if (cli.resume) {
    ({ model: resumed, checkpoint: previous } = await readCheckpoint(cli.resume));
    options = { ...previous.options, out: cli.resume, resume: cli.resume, verbose: cli.verbose };
  }
  // Every option is checked, the data read and the model built before anything is written, so a
  // run that cannot start leaves no folder behind.
  options = { ...options, dataset: absoluteSpec(options.dataset) };
  if (job) fitOptions(options, previous, job); // refuses a global batch the ranks cannot share
  // A GPU backend is set after the data are read: they stay on the CPU, and each batch is uploaded
  // where it meets the model's weights (Note [Ops across backends]); results are read with await.
  const onGpu = options.backend === 'webgpu';
  if (options.backend && !onGpu) await st.setBackend(options.backend);
  const optimizer = resumed ? undefined : makeOptimizer(options);
  const source = resumed || options.model === undefined ? undefined : await readModelSpec(options.model);
  const data = await loadDataset(options.dataset, {
    limit: options.limit,
    imageSize: options.imageSize,
    grayscale: !options.color,
    labelColumn: options.labelColumn,
  });
  if (onGpu) {
    await st.setBackend('webgpu');
    // A resumed model was read before the backend was known: read it again onto the GPU.
    if (cli.resume) ({ model: resumed } = await readCheckpoint(cli.resume));
  }
  const modelSpec = options.model ?? (data.images ? 'convnet' : 'mlp');
  if (modelSpec === 'convnet' && !data.images)
    throw new st.ValueError(`--model convnet needs images; ${options.dataset} holds feature rows (use --model mlp)`);
  let model: st.Model;
  if (resumed) {
    model = resumed;
  } else {
    st.setSeed(options.seed);
    model = await buildModel(source ?? (await readModelSpec(modelSpec)), data);
    checkModelFits(model, data, `--model: ${modelSpec}`, data.name);
    model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  }
  const record = await makeRecord(data, options);
  const out =
    options.out ?? join('runs', `${modelSpec.replace(/\W+/g, '-')}-${data.name}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
  if (!lead) return trainAsFollower(model, data, options, previous, job!);
  // Before the folder is made: a dashboard that cannot start (pages not built) leaves nothing behind.
  const server = dashboard ? await startDashboard(out, dashboard) : undefined;
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'classes.json'), recordText(record));

  const trainCount = Math.floor(data.xTrain.shape[0] * (1 - options.validationSplit));
  const held = data.xTrain.shape[0] - trainCount,
    tests = data.xTest.shape[0];
  if (options.verbose) {
    model.summary();
    const validation = held ? `validating on ${held} more (${Math.round(options.validationSplit * 100)} %)` : 'no validation';
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    const ranks = job ? `, ${job.size} ranks of batch ${options.batchSize / job.size} (${job.library})` : '';
    console.log(
      `Training on ${samples(data, trainCount)}, ${validation}, testing on ${tests} (${data.testSplit}); ` +
        `backend '${st.getBackend().name}', ${plural(options.epochs, 'epoch')}, batch ${options.batchSize}${ranks}, output in ${out}`,
    );
  }

  // Seconds per epoch; an epoch cut by Ctrl-C counts its time before and after the interruption.
  const epochSeconds = [...(previous?.epochSeconds ?? [])];
  const carried =
    previous && previous.position.batch > 0 ? { epoch: previous.position.epoch, seconds: epochSeconds[previous.position.epoch] ?? 0 } : undefined;
  let epochStart = 0,
    lastBatchEnd = 0;
  const timer: st.Callback = {
    onEpochBegin: (epoch) => void (epochStart = performance.now() - (epoch === carried?.epoch ? carried.seconds * 1000 : 0)),
    onBatchEnd: () => void (lastBatchEnd = performance.now()),
    wantsLogs: () => false, // it times batches; reading their logs would make a GPU step wait
    onEpochEnd: (epoch) => void (epochSeconds[epoch] = (performance.now() - epochStart) / 1000),
  };
  const counts = { trainSamples: trainCount, validationSamples: held, testSamples: tests };
  const live = new LiveLog(out, runConfig(model, data, options, modelSpec, counts), previous !== undefined);
  // Note [A checkpoint at every epoch's end]
  const soFar: Checkpoint['history'] = { epoch: [], history: {} };
  const checkpointing: st.Callback = {
    onEpochEnd: async (epoch, logs) => {
      soFar.epoch.push(epoch);
      for (const [k, v] of Object.entries(logs ?? {})) (soFar.history[k] ??= [])[soFar.epoch.length - 1] = v;
      if (epoch + 1 >= options.epochs) return; // the finished model is saved next
      attachCheckpoint(model, { options, position: model.trainingPosition!, history: mergeHistory(previous?.history, soFar), epochSeconds });
      await model.save(out);
    },
  };
  const sigint = interruptOnSigint(model);
  const started = performance.now();
  let history: st.History;
  try {
    history = await model.fit(data.xTrain, data.yTrain, {
      ...fitOptions(options, previous, job),
      verbose: options.verbose,
      callbacks: [timer, live, checkpointing],
    });
  } catch (e) {
    live.end('failed', e instanceof Error ? e.message : String(e));
    await server?.close();
    throw e;
  } finally {
    sigint.dispose();
  }
  const merged = mergeHistory(previous?.history, history);
  const position = model.trainingPosition!;
  // In a job, another rank's Ctrl-C stops this one too (they agree to stop at the same step).
  if ((sigint.interrupted() || job) && position.epoch < options.epochs) {
    // The cut epoch's time up to its last batch: the validation pass after it is run again on resume.
    if (position.batch > 0) epochSeconds[position.epoch] = (lastBatchEnd - epochStart) / 1000;
    // One atomic save: the weights, the optimizer state and where they stand are never torn apart.
    attachCheckpoint(model, { options, position, history: merged, epochSeconds });
    await model.save(out);
    console.log(`Checkpoint written to ${out} (epoch ${position.epoch + 1}, batch ${position.batch}); continue with: strata train --resume ${out}`);
    live.end('interrupted');
    await server?.close(); // Ctrl-C asked to stop: the dashboard too
    process.exitCode = 130;
    return;
  }
  const seconds = (performance.now() - started) / 1000;
  const test = await model.evaluate(data.xTest, data.yTest, { batchSize: 512, verbose: 0 });
  live.test(test);
  clearCheckpoint(model);
  await model.save(out);
  await writeRunOutputs(out, { model, data, history: merged, test, epochSeconds, options });
  live.end('finished');
  console.log(
    `Test accuracy ${(test.accuracy * 100).toFixed(2)} % (loss ${test.loss.toFixed(4)}) on ${tests} test ${unit(data, tests)} (${data.testSplit}); ` +
      `training took ${formatSeconds(seconds)} s${previous ? ' since the resume' : ''}; results in ${out}`,
  );
  if (server) await serveUntilInterrupted(server);
}
