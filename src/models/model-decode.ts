// A model rebuilt from its saved files, whichever store they came from. Nothing in the files is
// evaluated: the architecture is rebuilt from registered layer classes only, and every weight's
// key, shape and dtype is checked against both model.json and the rebuilt model.

import { DtypeError, FormatError, StrataError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { withWeightBudget } from '../nn/layer.js';
import { deserializeLayer } from '../nn/registry.js';
import { optimizerFromConfig, optimizers } from '../optimizers/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Manifest } from './manifest.js';
import { weightKeys } from './model-encode.js';
import type { StoredModel } from './model-stores.js';
import { Model } from './model.js';
import type { CompileArgs } from './trainer.js';

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

/** Rebuilds the model, its weights and (with `compile`) its training configuration and optimizer state. */
export function decodeModel(stored: StoredModel, compile: boolean): Model {
  const { manifest, weights, optimizer, names } = stored;
  const modelFile = names.model;
  // Decoding allocates no more than the file holds (safetensors checks every offset against its
  // length); the architecture may then create weights only within the file's size, so a config
  // claiming 2^28 units is refused before its initializer fills gigabytes.
  const tensors = decodeSafetensors(weights, names.weights, {
    names: manifest.weights.map((w) => w.key),
    by: 'the weights model.json lists',
  }).tensors;
  const model = inFile(modelFile, () =>
    withWeightBudget(weights.byteLength, `the weights in ${names.weights}`, () => deserializeLayer(manifest.model, 'model')),
  );
  if (!(model instanceof Model)) throw new FormatError(`${modelFile}: the top-level entry is a ${model.className} layer, not a model`);
  model.setWeights(readWeights(model, manifest, modelFile, names.weights, tensors));
  if (manifest.userDefinedMetadata) model.setUserDefinedMetadata(manifest.userDefinedMetadata);

  const tc = manifest.trainingConfig;
  if (compile && tc) {
    const hint = '; load with st.loadModel(path, {compile: false}) and compile the model yourself';
    const name = tc.optimizer.config.name;
    // optimizerFromConfig indexes a plain object: only its own keys are optimizers ("constructor" is not).
    if (typeof name !== 'string' || !Object.hasOwn(optimizers, name)) {
      throw new FormatError(`${modelFile}: unknown optimizer ${JSON.stringify(name)}; expected one of ${Object.keys(optimizers).join(', ')}${hint}`);
    }
    const opt = inFile(modelFile, () => optimizerFromConfig(tc.optimizer.config), hint);
    const args: CompileArgs = {
      optimizer: opt,
      loss: tc.loss.length === 1 ? tc.loss[0] : tc.loss,
      metrics: tc.metrics.length === 1 ? tc.metrics[0] : tc.metrics,
      lossWeights: tc.lossWeights,
    };
    if (tc.weightedMetrics) args.weightedMetrics = tc.weightedMetrics.length === 1 ? tc.weightedMetrics[0] : tc.weightedMetrics;
    inFile(modelFile, () => model.compile(args), hint);
    if (optimizer) restoreOptimizer(model, names.optimizer, optimizer, manifest);
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
    if (entry.key !== keys[i])
      throw new FormatError(`${modelFile}: weight ${i} is listed as '${entry.key}'; the architecture's weight ${i} is '${keys[i]}'`);
    if (!shapesEqual(entry.shape, target.shape) || entry.dtype !== target.dtype) {
      throw new FormatError(
        `${modelFile}: weight '${entry.key}' is listed as ${entry.dtype} ${fmtShape(entry.shape)}; the architecture expects ${expected}`,
      );
    }
    const t = tensors.get(entry.key);
    if (!t) throw new FormatError(`${weightsFile}: missing weight '${entry.key}' (listed in model.json)`);
    if (!shapesEqual(t.shape, target.shape) || t.dtype !== target.dtype) {
      throw new FormatError(
        `${weightsFile}: weight '${entry.key}' is ${t.dtype} ${fmtShape(t.shape)}; the architecture and model.json expect ${expected}`,
      );
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
function restoreOptimizer(model: Model, file: string, bytes: Uint8Array, manifest: Manifest): void {
  const decoded = decodeSafetensors(bytes, file);
  const optimizer = model.optimizer!;
  const iterations = decoded.tensors.get('iterations');
  if (iterations?.size !== 1) throw new FormatError(`${file}: missing the scalar 'iterations'`);
  // The decoded tensor came from the file's bytes, so its value is on the host on every backend.
  const count = Number((iterations.hostValues() ?? [iterations.item()])[0]);
  if (!Number.isInteger(count) || count < 0) throw new FormatError(`${file}: 'iterations' must be a non-negative integer; received ${count}`);
  if (decoded.tensors.size !== manifest.optimizerState!.entries) {
    throw new FormatError(`${file}: holds ${decoded.tensors.size} tensors; model.json lists ${manifest.optimizerState!.entries}`);
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
