import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DtypeError, FormatError, StrataError, ValueError, fmtShape } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { shapesEqual } from '../core/shape.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { deserializeLayer, type SerializedLayer } from '../nn/registry.js';
import { optimizerFromConfig, optimizers } from '../optimizers/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { CompileArgs } from './trainer.js';
import { Model } from './model.js';
import { FILES, FORMAT, FORMAT_VERSION, weightKeys } from './save.js';

interface TrainingConfig {
  optimizer: { className: string; config: Record<string, unknown> };
  loss: string[];
  metrics: string[][];
  lossWeights: number[];
  /** Present when compile had weightedMetrics. */
  weightedMetrics?: string[][];
}

interface Manifest {
  format: string;
  formatVersion: number;
  model: SerializedLayer;
  trainingConfig: TrainingConfig | null;
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

/**
 * Runs a step of loading, turning any error into a FormatError that names the file (a DtypeError
 * stays one, still naming the file). A TypeError or RangeError here means a config of the wrong
 * shape reached code that trusted it (e.g. a number where a list belongs): still a corrupt file.
 */
function inFile<T>(file: string, f: () => T, hint = ''): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FormatError) throw e;
    // A dtype the current backend lacks (a float64 model on 'native') is not corruption: keep the class.
    if (e instanceof DtypeError) throw new DtypeError(`${file}: ${e.message}`);
    if (e instanceof StrataError) throw new FormatError(`${file}: ${e.message}${hint}`);
    if (e instanceof TypeError || e instanceof RangeError) throw new FormatError(`${file}: malformed entry (${e.message})${hint}`);
    throw e;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** model.json is strict like a layer config: a key we do not know means a file we cannot trust. */
function onlyKeys(file: string, where: string, obj: object, allowed: readonly string[]): void {
  const unknown = Object.keys(obj).find((k) => !allowed.includes(k));
  if (unknown !== undefined) throw new FormatError(`${file}: unknown key '${unknown}'${where ? ` in ${where}` : ''}; expected ${allowed.join(', ')}`);
}

function parseManifest(file: string, bytes: Uint8Array): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new FormatError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(m) || m.format !== FORMAT) throw new FormatError(`${file}: not a Strata model file (expected "format": "${FORMAT}"; received ${JSON.stringify((m as { format?: unknown })?.format)})`);
  if (m.formatVersion !== FORMAT_VERSION) throw new FormatError(`${file}: format version ${JSON.stringify(m.formatVersion)} is not supported (this Strata reads version ${FORMAT_VERSION})`);
  onlyKeys(file, '', m, ['format', 'formatVersion', 'model', 'trainingConfig', 'weights', 'optimizerState']);
  const isShape = (s: unknown) => Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0);
  if (!Array.isArray(m.weights) || !m.weights.every((w) => isObject(w) && typeof w.key === 'string' && isShape(w.shape) && typeof w.dtype === 'string')) {
    throw new FormatError(`${file}: "weights" must be a list of {key, shape, dtype} with shapes of non-negative integers`);
  }
  m.weights.forEach((w, i) => onlyKeys(file, `weights[${i}]`, w, ['key', 'shape', 'dtype', 'trainable']));
  const tc = m.trainingConfig;
  if (tc !== null && tc !== undefined) {
    const ok = isObject(tc) && isObject(tc.optimizer) && isObject(tc.optimizer.config) && isStringList(tc.loss)
      && Array.isArray(tc.metrics) && tc.metrics.every(isStringList) && Array.isArray(tc.lossWeights) && tc.lossWeights.every((w) => typeof w === 'number');
    if (!ok) throw new FormatError(`${file}: "trainingConfig" must be {optimizer: {className, config}, loss: [names], metrics: [[names]], lossWeights: [numbers]} or null; received ${JSON.stringify(tc)?.slice(0, 200)}`);
    if (tc.weightedMetrics !== undefined && !(Array.isArray(tc.weightedMetrics) && tc.weightedMetrics.every(isStringList))) {
      throw new FormatError(`${file}: "trainingConfig.weightedMetrics" must be [[names]]; received ${JSON.stringify(tc.weightedMetrics)?.slice(0, 200)}`);
    }
    onlyKeys(file, 'trainingConfig', tc, ['optimizer', 'loss', 'metrics', 'lossWeights', 'weightedMetrics']);
    onlyKeys(file, 'trainingConfig.optimizer', tc.optimizer, ['className', 'config']);
  }
  const os = m.optimizerState;
  if (os !== null && os !== undefined && !(isObject(os) && Number.isInteger(os.entries))) {
    throw new FormatError(`${file}: "optimizerState" must be {file, entries} or null; received ${JSON.stringify(os)?.slice(0, 200)}`);
  }
  if (os) onlyKeys(file, 'optimizerState', os, ['file', 'entries']);
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
  model.setWeights(readWeights(model, manifest, modelFile, weightsFile, decodeSafetensors(await readBytes(weightsFile), weightsFile).tensors));

  const tc = manifest.trainingConfig;
  if ((options.compile ?? true) && tc) {
    const hint = '; load with st.loadModel(path, {compile: false}) and compile the model yourself';
    const name = tc.optimizer.config.name;
    // optimizerFromConfig indexes a plain object: only its own keys are optimizers ("constructor" is not).
    if (typeof name !== 'string' || !Object.hasOwn(optimizers, name)) {
      throw new FormatError(`${modelFile}: unknown optimizer ${JSON.stringify(name)}; expected one of ${Object.keys(optimizers).join(', ')}${hint}`);
    }
    const optimizer = inFile(modelFile, () => optimizerFromConfig(tc.optimizer.config), hint);
    const args: CompileArgs = { optimizer, loss: tc.loss.length === 1 ? tc.loss[0] : tc.loss, metrics: tc.metrics.length === 1 ? tc.metrics[0] : tc.metrics, lossWeights: tc.lossWeights };
    if (tc.weightedMetrics) args.weightedMetrics = tc.weightedMetrics.length === 1 ? tc.weightedMetrics[0] : tc.weightedMetrics;
    inFile(modelFile, () => model.compile(args), hint);
    if (manifest.optimizerState) await restoreOptimizer(model, join(dir, FILES.optimizer), manifest);
  }
  return model;
}

/**
 * The weight values in the model's order, after checking that model.json's manifest matches the
 * rebuilt architecture (same keys in the same order, same shapes and dtypes) and that the
 * weights file holds exactly those tensors.
 */
function readWeights(model: Model, manifest: Manifest, modelFile: string, weightsFile: string, tensors: Map<string, Tensor>): Tensor[] {
  const targets = model.weights;
  const keys = weightKeys(model);
  if (targets.length !== manifest.weights.length) {
    throw new FormatError(`${modelFile}: lists ${manifest.weights.length} weights but the architecture has ${targets.length}`);
  }
  const values = manifest.weights.map((entry, i) => {
    const target = targets[i].value;
    const expected = `${target.dtype} ${fmtShape(target.shape)}`;
    if (entry.key !== keys[i]) throw new FormatError(`${modelFile}: weight ${i} is listed as '${entry.key}'; the architecture's weight ${i} is '${keys[i]}'`);
    if (!shapesEqual(entry.shape, target.shape) || entry.dtype !== target.dtype) {
      throw new FormatError(`${modelFile}: weight '${entry.key}' is listed as ${entry.dtype} ${fmtShape(entry.shape)}; the architecture expects ${expected}`);
    }
    const t = tensors.get(entry.key);
    if (!t) throw new FormatError(`${weightsFile}: missing weight '${entry.key}' (listed in ${FILES.model})`);
    if (!shapesEqual(t.shape, target.shape) || t.dtype !== target.dtype) {
      throw new FormatError(`${weightsFile}: weight '${entry.key}' is ${t.dtype} ${fmtShape(t.shape)}; the architecture and ${FILES.model} expect ${expected}`);
    }
    return t;
  });
  if (tensors.size !== values.length) {
    const extra = [...tensors.keys()].filter((k) => !keys.includes(k));
    throw new FormatError(`${weightsFile}: holds weights the model does not have: ${extra.slice(0, 5).join(', ')}`);
  }
  return values;
}

/** Restores the iteration count and every variable's slots; every entry of the file must be used. */
async function restoreOptimizer(model: Model, file: string, manifest: Manifest): Promise<void> {
  const decoded = decodeSafetensors(await readBytes(file), file);
  const optimizer = model.optimizer!;
  const iterations = decoded.tensors.get('iterations');
  if (!iterations || iterations.size !== 1) throw new FormatError(`${file}: missing the scalar 'iterations'`);
  const count = iterations.item();
  if (!Number.isInteger(count) || count < 0) throw new FormatError(`${file}: 'iterations' must be a non-negative integer; received ${count}`);
  if (decoded.tensors.size !== manifest.optimizerState!.entries) {
    throw new FormatError(`${file}: holds ${decoded.tensors.size} tensors; ${FILES.model} lists ${manifest.optimizerState!.entries}`);
  }
  const weights = model.weights;
  const used = new Set(['iterations']);
  manifest.weights.forEach((entry, i) => {
    const slots: Tensor[] = [];
    for (let name = `${entry.key}/0`; decoded.tensors.has(name); name = `${entry.key}/${slots.length}`) {
      slots.push(decoded.tensors.get(name)!);
      used.add(name);
    }
    if (slots.length) inFile(`${file}: weight '${entry.key}'`, () => optimizer.restoreSlots(weights[i].value, slots));
  });
  const extra = [...decoded.tensors.keys()].filter((k) => !used.has(k));
  if (extra.length) throw new FormatError(`${file}: holds optimizer state for weights the model does not have: ${extra.slice(0, 5).join(', ')}`);
  optimizer.iterations = count;
}
