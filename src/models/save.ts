import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ValueError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { encodeSafetensors, type NamedTensor } from '../io/safetensors.js';
import { serializeLayer } from '../nn/registry.js';
import { tensor } from '../tensor/create.js';
import type { Model } from './model.js';

export const FORMAT = 'strata-model';
export const FORMAT_VERSION = 1;
export const FILES = { model: 'model.json', weights: 'weights.safetensors', optimizer: 'optimizer.safetensors' } as const;

/** The key of each weight in weights.safetensors: its layer path, made unique if two layers share a name. */
export function weightKeys(model: Model): string[] {
  const used = new Map<string, number>();
  return model.weights.map((w) => {
    const n = used.get(w.path) ?? 0;
    used.set(w.path, n + 1);
    return n === 0 ? w.path : `${w.path}#${n}`;
  });
}

// Note [Model files]
// model.save(dir) writes three files, each to a temporary name renamed into place, weights
// first and model.json last, so a directory whose model.json exists has matching weights (a save
// interrupted while overwriting can leave new weights beside the old model.json; loading checks
// every key and shape against the architecture, so a mismatch is reported, not loaded):
//   model.json             format tag and version, the architecture (className + getConfig of
//                          every layer), the compile arguments, and a manifest of the weights
//                          (key, shape, dtype in getWeights() order)
//   weights.safetensors    every weight under its key
//   optimizer.safetensors  when compiled: `iterations` and each trainable variable's slots
//                          under `<weight key>/<slot index>`, so a resumed run continues exactly;
//                          removed when an uncompiled model is saved over a compiled one

/** Writes the model directory described in Note [Model files]. */
export async function saveModel(model: Model, dir: string): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new ValueError(`${model.name}.save: path must be a non-empty string; received ${JSON.stringify(dir)}`);
  if (!model.built) throw new ValueError(`${model.name}.save: the model has no weights yet; call it on data, fit it, or give its first layer an inputShape`);
  await mkdir(dir, { recursive: true });
  const weights = model.weights;
  const keys = weightKeys(model);
  const named: NamedTensor[] = weights.map((w, i) => ({ name: keys[i], tensor: w.value }));
  await writeFileAtomic(join(dir, FILES.weights), encodeSafetensors(named, { format: FORMAT }));

  const optimizer = model.optimizer;
  let optimizerEntries = 0;
  if (optimizer) {
    const state: NamedTensor[] = [{ name: 'iterations', tensor: tensor(optimizer.iterations, [], 'int32') }];
    weights.forEach((w, i) => {
      const slots = optimizer.slotsFor(w.value);
      slots?.forEach((s, k) => state.push({ name: `${keys[i]}/${k}`, tensor: s }));
    });
    optimizerEntries = state.length;
    await writeFileAtomic(join(dir, FILES.optimizer), encodeSafetensors(state, { format: FORMAT, optimizer: optimizer.name }));
  }

  const manifest = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    model: serializeLayer(model),
    trainingConfig: model.getCompileConfig(),
    weights: weights.map((w, i) => ({ key: keys[i], shape: w.value.shape, dtype: w.value.dtype, trainable: w.trainable })),
    optimizerState: optimizer ? { file: FILES.optimizer, entries: optimizerEntries } : null,
  };
  await writeFileAtomic(join(dir, FILES.model), JSON.stringify(manifest, null, 1) + '\n');
  // An uncompiled model saved over a compiled one: the old optimizer state belongs to other weights.
  // Removed only now, so the previous model.json never points at a missing file.
  if (!optimizer) await rm(join(dir, FILES.optimizer), { force: true });
}
