#!/usr/bin/env node
// The `strata` command line: train, evaluate, predict, summary, inspect, project, info, import, export, serve, bench. Each command parses its
// options here and calls the public API (train.ts holds the main job's orchestration).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import * as st from '../index.js';
import { evaluateRun, predictImages, type EvaluateOptions, type PredictOptions } from './run-commands.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { inspectRun, type InspectOptions } from './inspect.js';
import { projectRun, type ProjectOptions } from './project.js';
import { serveCommand } from './serve.js';
import { train } from './train.js';

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}; received ${value}`);
    return n;
  };
}

function number(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}]; received ${value}`);
    return n;
  };
}

/** CPU features that decide which kernels run fast (Linux only; elsewhere unknown). */
function cpuFeatures(): string {
  try {
    const flags =
      readFileSync('/proc/cpuinfo', 'utf8')
        .match(/^flags\s*:(.*)$/m)?.[1]
        .split(/\s+/) ?? [];
    const wanted = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'amx_tile'];
    return wanted.filter((f) => flags.includes(f)).join(' ') || 'none of avx2/avx512';
  } catch {
    return 'unknown';
  }
}

function imageSize(value: string): [number, number] {
  const parts = value.split(/[,x]/).map(Number);
  if (parts.length !== 2 || !parts.every((n) => Number.isInteger(n) && n > 0))
    throw new InvalidArgumentError(`--image-size must be two positive integers like 28,28; received ${value}`);
  return [parts[0], parts[1]];
}

const program = new Command();
program.name('strata').description('Strata: deep learning for TypeScript').version(st.version, '-v, --version');

program
  .command('train')
  .description('train a model on an image dataset, with a progress bar, a saved model, history and pictures')
  .option(
    '--model <name|file.json>',
    'convnet (Deep Learning with Python ch. 8; the default for images), mlp (ch. 2; the default for CSV), an st.applications network (lenet5, resNet18, mobileNetV2, ...; with --image-size where it needs larger images), or a model .json file',
  )
  .option(
    '--dataset <name>',
    'mnist, fashion-mnist, csv:FILE (numeric columns and an integer label column) or dir:FOLDER (one subfolder of PNG/JPEG images per class)',
    'mnist',
  )
  .option('--image-size <h,w>', 'dir: datasets: resize every image to this size', imageSize, [28, 28])
  .option('--color', 'dir: datasets: keep three colour channels (default grayscale)')
  .option('--label-column <name|index>', 'csv: datasets: the column holding the class number', 'label')
  .option('--epochs <n>', 'number of epochs', integer('--epochs', 1), 5)
  .option('--batch-size <n>', 'samples per step', integer('--batch-size', 1), 64)
  .option('--optimizer <name>', 'sgd, rmsprop, adam, adamw, adagrad, adadelta, adamax or nadam (Keras defaults)', 'rmsprop')
  .option('--learning-rate <x>', 'the optimizer learning rate (default: the optimizer default)', number('--learning-rate', 0, 10))
  .option('--validation-split <x>', 'fraction of the training images held out for validation curves', number('--validation-split', 0, 0.9), 0.1)
  .addOption(
    new Option('--backend <name>', 'compute backend (default: the fastest available CPU one)').choices(['native', 'wasm', 'webgpu', 'reference']),
  )
  .option('--seed <n>', 'random seed for initialization, shuffling and dropout', integer('--seed', 0), 0)
  .option('--out <dir>', 'output folder (default runs/<model>-<dataset>-<time>)')
  .option('--resume <dir>', 'continue an interrupted run from its checkpoint folder')
  .option('--limit <n>', 'use only the first n training and test images', integer('--limit', 1))
  .addOption(new Option('--verbose <level>', '0 silent, 1 progress bar, 2 one line per epoch').choices(['0', '1', '2']).default('1'))
  .option('--dashboard', 'show the run live on the dashboard page (http://127.0.0.1:6006/runs/) while it trains, and after until Ctrl-C')
  .option('--port <n>', 'the dashboard port (default 6006, or a free one when 6006 is taken; 0 picks a free one)', integer('--port', 0))
  .option(
    '--distributed',
    'train data-parallel as one rank of a job started by mpirun (e.g. mpirun -np 2 strata train --distributed); --batch-size is then the global batch',
  )
  .action(async (o) => {
    // Not training options: a checkpoint must not record them, so --resume decides them anew.
    const { dashboard, port, distributed, ...options } = o;
    if (port !== undefined && !dashboard) throw new st.ValueError('--port is the dashboard port; add --dashboard');
    return train({ ...options, verbose: Number(o.verbose) as 0 | 1 | 2 }, { dashboard: dashboard ? { port } : undefined, distributed });
  });

program
  .command('evaluate')
  .description('loss and accuracy of a saved model on the test split of the data it was trained on (recorded in its classes.json), or of --dataset')
  .argument('<model>', 'a directory written by strata train (or model.save)')
  .option(
    '--dataset <name>',
    "test on another dataset instead: mnist, fashion-mnist, csv:FILE or dir:FOLDER (default: the run's own; mnist for a folder without classes.json)",
  )
  .option('--limit <n>', "use only the first n test images or rows (default: the run's own --limit)", integer('--limit', 1))
  .option('--label-column <name|index>', "csv: datasets: the column holding the class number (default: the run's own)")
  .action(async (dir: string, o: EvaluateOptions) => evaluateRun(dir, o));

program
  .command('predict')
  .description("the most likely classes of images (PNG or JPEG), resized and converted to the model's input")
  .argument('<model>', 'a directory written by strata train')
  .argument('<images...>', 'image files')
  .option('--top <k>', 'how many classes to show at most (classes below 0.05 % are left out)', integer('--top', 1), 3)
  .addOption(
    new Option(
      '--invert <when>',
      "auto: invert an image whose background is the opposite of the training images' (a black-on-white drawing for MNIST), with a note",
    )
      .choices(['auto', 'always', 'never'])
      .default('auto'),
  )
  .action(async (dir: string, files: string[], o: PredictOptions) => predictImages(dir, files, o));

program
  .command('summary')
  .description('print the layer table of a saved model')
  .argument('<model>', 'a directory written by model.save or strata train')
  .action(async (dir: string) => {
    (await st.loadModel(dir, { compile: false })).summary();
  });

program
  .command('inspect')
  .description('one layer made visible: its activations for an image (one tile per channel) and, for a convolution, its filters, as PNG grids')
  .argument('<run>', 'a directory written by strata train (an image classifier)')
  .requiredOption('--layer <name>', 'the layer to look at (strata summary lists them)')
  .option('--image <file>', "a PNG or JPEG image, resized to the model's input (default: the first test image of the run's dataset)")
  .option('--out <dir>', 'where the pictures go (default <run>/inspect/<layer>)')
  .action(async (dir: string, o: InspectOptions) => inspectRun(dir, o));

program
  .command('project')
  .description(
    "the embedding projector: one layer's activations of the test images, reduced to 2-D or 3-D, as an HTML page (hover a point for its image)",
  )
  .argument('<run>', 'a directory written by strata train (an image classifier)')
  .requiredOption('--layer <name>', 'the layer whose outputs are projected (strata summary lists them)')
  .addOption(new Option('--method <name>', 'pca (st.vis.pca) or umap (umap-js, seeded)').choices(['pca', 'umap']).default('pca'))
  .addOption(new Option('--dims <n>', 'project to 2 or 3 dimensions (3: drag to rotate)').choices(['2', '3']).default('2'))
  .option('--limit <n>', 'how many test images (the first n)', integer('--limit', 3), 2000)
  .option('--seed <n>', 'the random seed of umap', integer('--seed', 0), 0)
  .option('--out <file.html>', 'the page to write (default <run>/projector-<layer>-<method>-<dims>d.html)')
  .action(async (dir: string, o: ProjectOptions) => {
    await projectRun(dir, o);
  });

program
  .command('info')
  .description('print the version, runtime, threads, CPU features and each backend with its availability')
  .action(async () => {
    console.log(`strata ${st.version} on Node.js ${process.version} (${process.platform}-${process.arch})`);
    console.log(`  cpu: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} logical cores, features: ${cpuFeatures()}`);
    console.log(`  threads: ${st.getNumThreads()}`);
    await st.ready(); // opens webgpu, so its line says whether there is a GPU adapter
    for (const b of st.backends()) {
      const state = b.available ? `${b.active ? 'available, default' : 'available'}${b.detail ? ` (${b.detail})` : ''}` : `unavailable: ${b.reason}`;
      console.log(`  backend ${b.name.padEnd(10)} ${state}`);
    }
  });

program
  .command('import')
  .description('import an ONNX model (st.onnx.load) or a Keras .keras/.h5 file (st.keras.load) and save it as a Strata model folder')
  .argument('<file>', 'the .onnx, .keras or .h5 file')
  .requiredOption('--out <dir>', 'the model folder to write')
  .action(async (file: string, o: { out: string }) => {
    await importCommand(file, o);
  });

program
  .command('export')
  .description('write a saved model (a strata train run or a model.save folder) as an ONNX file (st.onnx.save)')
  .argument('<model>', 'a directory written by strata train or model.save')
  .requiredOption('--onnx <file>', 'the .onnx file to write')
  .action(async (dir: string, o: { onnx: string }) => {
    await exportCommand(dir, o);
  });

program
  .command('serve')
  .description('serve the playground, the MNIST page and the live dashboard of a runs folder on http://127.0.0.1:6006/')
  .argument('[runs]', 'the folder of runs the dashboard shows', 'runs')
  .option('--port <n>', 'the port to listen on (0 picks a free one)', integer('--port', 0), 6006)
  .option('--host <address>', 'the address to listen on; only this machine can connect unless you pass another', '127.0.0.1')
  .action(async (runs: string, o) => serveCommand(runs, o));

program
  .command('bench')
  .description('run the benchmark against PyTorch (from a clone of the repository; see bench/README.md)')
  .allowUnknownOption()
  .argument('[args...]', 'passed to the benchmark, e.g. --full')
  .action((args: string[]) => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const script = join(root, 'bench', 'run.ts');
    if (!existsSync(script))
      throw new st.ValueError(`strata bench: ${script} not found; the benchmark ships with the repository, not the npm package`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit', cwd: root });
    process.exitCode = r.status ?? 1;
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(e instanceof st.StrataError ? `strata: ${e.message}` : e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
