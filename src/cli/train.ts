import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as st from '../index.js';
import { attachCheckpoint, clearCheckpoint, readCheckpoint, type Checkpoint } from './checkpoint.js';
import { BUILTIN_MODELS, type BuiltinModel } from './builtin-models.js';
import { loadDataset, type LabelledData } from './datasets.js';
import { writeRunOutputs } from './run-outputs.js';

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


async function buildModel(spec: string, data: LabelledData): Promise<st.Model> {
  if (spec in BUILTIN_MODELS) return BUILTIN_MODELS[spec as BuiltinModel](data.xTrain.shape.slice(1), data.classNames.length);
  if (!spec.endsWith('.json')) throw new st.ValueError(`--model: expected ${Object.keys(BUILTIN_MODELS).join(', ')} or a path to a model .json file; received ${JSON.stringify(spec)}`);
  const text = await readFile(spec, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new st.ValueError(`--model: cannot read ${spec} (${e.code ?? e.message})`);
  });
  let json: { format?: string; className?: string; config?: Record<string, unknown> };
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new st.FormatError(`${spec}: not valid JSON (${(e as Error).message})`);
  }
  // A saved model's model.json brings its weights; a bare {className, config} is an architecture.
  if (json.format === 'strata-model') return st.loadModel(dirname(spec), { compile: false });
  const layer = st.layers.deserialize(json as { className: string; config: Record<string, unknown> });
  if (!(layer instanceof st.Model)) throw new st.ValueError(`${spec}: describes a ${layer.className} layer, not a model`);
  return layer;
}

function makeOptimizer(o: TrainOptions): st.Optimizer {
  const make = st.optimizers[o.optimizer as keyof typeof st.optimizers] as ((args?: { learningRate?: number }) => st.Optimizer) | undefined;
  if (!make) throw new st.ValueError(`--optimizer: expected one of ${Object.keys(st.optimizers).join(', ')}; received ${JSON.stringify(o.optimizer)}`);
  return make(o.learningRate === undefined ? {} : { learningRate: o.learningRate });
}

/** Stops fit at the end of the current batch on the first Ctrl-C; a second one exits at once. */
function interruptOnSigint(model: st.Model): { interrupted: () => boolean; dispose: () => void } {
  let count = 0;
  const handler = () => {
    count++;
    if (count > 1) process.exit(130);
    process.stderr.write('\nInterrupted: finishing this step and writing a checkpoint (Ctrl-C again to quit now)\n');
    model.stopTraining = true;
  };
  process.on('SIGINT', handler);
  return { interrupted: () => count > 0, dispose: () => process.off('SIGINT', handler) };
}

/** Joins the history of a resumed run onto what the checkpoint recorded (the interrupted epoch is replaced). */
function mergeHistory(before: Checkpoint['history'] | undefined, after: st.History): Checkpoint['history'] {
  const merged = { epoch: [...(before?.epoch ?? [])], history: Object.fromEntries(Object.entries(before?.history ?? {}).map(([k, v]) => [k, [...v]])) };
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

/** `strata train`: the main job, end to end. */
export async function train(cli: TrainOptions): Promise<void> {
  let previous: Checkpoint | undefined;
  let resumed: st.Model | undefined;
  let options = cli;
  if (cli.resume) {
    ({ model: resumed, checkpoint: previous } = await readCheckpoint(cli.resume));
    options = { ...previous.options, out: cli.resume, resume: cli.resume, verbose: cli.verbose };
  }
  if (options.backend) st.setBackend(options.backend);
  const data = await loadDataset(options.dataset, { limit: options.limit, imageSize: options.imageSize, grayscale: !options.color, labelColumn: options.labelColumn });
  const modelSpec = options.model ?? (data.images ? 'convnet' : 'mlp');
  if (modelSpec === 'convnet' && !data.images) throw new st.ValueError(`--model convnet needs images; ${options.dataset} holds feature rows (use --model mlp)`);
  const out = options.out ?? join('runs', `${modelSpec.replace(/\W+/g, '-')}-${data.name}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
  await mkdir(out, { recursive: true });
  // What `strata predict` needs besides the model: the class names.
  await writeFile(join(out, 'classes.json'), JSON.stringify({ dataset: options.dataset, classNames: data.classNames }) + '\n');

  let model: st.Model;
  if (resumed) {
    model = resumed;
  } else {
    st.setSeed(options.seed);
    model = await buildModel(modelSpec, data);
    model.compile({ optimizer: makeOptimizer(options), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  }
  if (options.verbose) {
    model.summary();
    console.log(`Training on ${data.xTrain.shape[0]} ${data.name} images (${Math.round(options.validationSplit * 100)} % held out for validation), backend '${st.getBackend().name}', ${options.epochs} epochs, batch ${options.batchSize}, output in ${out}`);
  }

  const epochSeconds = [...(previous?.epochSeconds ?? [])];
  let epochStart = 0;
  const timer: st.Callback = {
    onEpochBegin: () => void (epochStart = performance.now()),
    onEpochEnd: (epoch) => void (epochSeconds[epoch] = (performance.now() - epochStart) / 1000),
  };
  const sigint = interruptOnSigint(model);
  const started = performance.now();
  let history: st.History;
  try {
    history = await model.fit(data.xTrain, data.yTrain, {
      epochs: options.epochs, batchSize: options.batchSize, validationSplit: options.validationSplit,
      verbose: options.verbose, callbacks: [timer], ...(previous ? { resumeFrom: previous.position } : {}),
    });
  } finally {
    sigint.dispose();
  }
  const merged = mergeHistory(previous?.history, history);
  const position = model.trainingPosition!;
  if (sigint.interrupted() && position.epoch < options.epochs) {
    // One atomic save: the weights, the optimizer state and where they stand are never torn apart.
    attachCheckpoint(model, { options, position, history: merged, epochSeconds });
    await model.save(out);
    console.log(`Checkpoint written to ${out} (epoch ${position.epoch + 1}, batch ${position.batch}); continue with: strata train --resume ${out}`);
    process.exitCode = 130;
    return;
  }
  const seconds = (performance.now() - started) / 1000;
  const test = await model.evaluate(data.xTest, data.yTest, { batchSize: 512, verbose: 0 });
  clearCheckpoint(model);
  await model.save(out);
  await writeRunOutputs(out, { model, data, history: merged, test, epochSeconds, options });
  console.log(`Test accuracy ${(test.accuracy * 100).toFixed(2)} % (loss ${test.loss.toFixed(4)}) on ${data.xTest.shape[0]} test images; training took ${seconds.toFixed(1)} s; results in ${out}`);
}
