import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError, StrataError, ValueError, fmtShape } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { shapesEqual } from '../core/shape.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { deserializeLayer, type SerializedLayer } from '../nn/registry.js';
import { optimizerFromConfig } from '../optimizers/index.js';
import type { CompileArgs } from './trainer.js';
import { Model } from './model.js';
import { FILES, FORMAT, FORMAT_VERSION } from './save.js';

interface Manifest {
  format: string;
  formatVersion: number;
  model: SerializedLayer;
  trainingConfig: { optimizer: { className: string; config: Record<string, unknown> }; loss: string[]; metrics: string[][]; lossWeights: number[] } | null;
  weights: { key: string; shape: number[]; dtype: string }[];
  optimizerState: { file: string; entries: number } | null;
}

export interface LoadOptions {
  /** Restore the compile arguments and optimizer state (default true when the file has them). */
  compile?: boolean;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new FormatError(`${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Runs a step of loading, turning any error into a FormatError that names the file. */
function inFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FormatError) throw e;
    if (e instanceof StrataError) throw new FormatError(`${file}: ${e.message}`);
    throw e;
  }
}

function parseManifest(file: string, bytes: Uint8Array): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new FormatError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof m !== 'object' || m === null || m.format !== FORMAT) throw new FormatError(`${file}: not a Strata model file (expected "format": "${FORMAT}"; received ${JSON.stringify((m as { format?: unknown })?.format)})`);
  if (m.formatVersion !== FORMAT_VERSION) throw new FormatError(`${file}: format version ${JSON.stringify(m.formatVersion)} is not supported (this Strata reads version ${FORMAT_VERSION})`);
  if (!Array.isArray(m.weights) || !m.weights.every((w) => typeof w?.key === 'string' && Array.isArray(w.shape))) throw new FormatError(`${file}: "weights" must be a list of {key, shape, dtype}`);
  return m;
}

/**
 * Loads a directory written by model.save(): rebuilds the architecture from registered layer
 * classes only (nothing in the files is evaluated), checks every weight's key, shape and dtype
 * against both the manifest and the rebuilt model, and restores compile arguments and optimizer
 * state so training resumes where it stopped.
 */
export async function loadModel(dir: string, options: LoadOptions = {}): Promise<Model> {
  checkKeys('loadModel', options, ['compile']);
  if (typeof dir !== 'string' || dir === '') throw new ValueError(`loadModel: path must be a non-empty string; received ${JSON.stringify(dir)}`);
  const modelFile = join(dir, FILES.model);
  const manifest = parseManifest(modelFile, await readBytes(modelFile));
  const model = inFile(modelFile, () => deserializeLayer(manifest.model, 'model'));
  if (!(model instanceof Model)) throw new FormatError(`${modelFile}: the top-level entry is a ${model.className} layer, not a model`);

  const weightsFile = join(dir, FILES.weights);
  const decoded = decodeSafetensors(await readBytes(weightsFile), weightsFile);
  const targets = model.weights;
  if (targets.length !== manifest.weights.length) {
    throw new FormatError(`${modelFile}: lists ${manifest.weights.length} weights but the architecture has ${targets.length}`);
  }
  const values = manifest.weights.map((entry, i) => {
    const t = decoded.tensors.get(entry.key);
    if (!t) throw new FormatError(`${weightsFile}: missing weight '${entry.key}' (listed in ${FILES.model})`);
    const target = targets[i].value;
    if (!shapesEqual(t.shape, entry.shape) || !shapesEqual(t.shape, target.shape) || t.dtype !== target.dtype) {
      throw new FormatError(`${weightsFile}: weight '${entry.key}' is ${t.dtype} ${fmtShape(t.shape)}; the model (${targets[i].path}) expects ${target.dtype} ${fmtShape(target.shape)}`);
    }
    return t;
  });
  if (decoded.tensors.size !== values.length) {
    const extra = [...decoded.tensors.keys()].filter((k) => !manifest.weights.some((w) => w.key === k));
    throw new FormatError(`${weightsFile}: holds weights the model does not have: ${extra.slice(0, 5).join(', ')}`);
  }
  model.setWeights(values);

  if ((options.compile ?? true) && manifest.trainingConfig) {
    const tc = manifest.trainingConfig;
    const optimizer = inFile(modelFile, () => optimizerFromConfig(tc.optimizer.config));
    const args: CompileArgs = { optimizer, loss: tc.loss.length === 1 ? tc.loss[0] : tc.loss, metrics: tc.metrics.length === 1 ? tc.metrics[0] : tc.metrics, lossWeights: tc.lossWeights };
    inFile(modelFile, () => model.compile(args));
    if (manifest.optimizerState) await restoreOptimizer(model, join(dir, FILES.optimizer), manifest);
  }
  return model;
}

async function restoreOptimizer(model: Model, file: string, manifest: Manifest): Promise<void> {
  const decoded = decodeSafetensors(await readBytes(file), file);
  const optimizer = model.optimizer!;
  const iterations = decoded.tensors.get('iterations');
  if (!iterations || iterations.size !== 1) throw new FormatError(`${file}: missing the scalar 'iterations'`);
  const weights = model.weights;
  inFile(file, () => {
    manifest.weights.forEach((entry, i) => {
      const slots: ReturnType<typeof decoded.tensors.get>[] = [];
      for (let k = 0; decoded.tensors.has(`${entry.key}/${k}`); k++) slots.push(decoded.tensors.get(`${entry.key}/${k}`));
      if (slots.length) optimizer.restoreSlots(weights[i].value, slots as NonNullable<(typeof slots)[number]>[]);
    });
  });
  optimizer.iterations = iterations.item();
}
