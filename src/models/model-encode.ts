// A model as the bytes of its saved files: the manifest (model.json without its file records),
// the weights and the optimizer state as safetensors. Every model store (the Node file system,
// IndexedDB, downloads, http) writes these same bytes, so a model saved in one place loads from
// any other.

import { ValueError } from '../core/errors.js';
import { recordOf } from '../io/file-record.js';
import { encodeSafetensorsAsync, type NamedTensor } from '../io/safetensors.js';
import type { Layer } from '../nn/layer.js';
import { serializeLayer } from '../nn/registry.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { tensor } from '../tensor/create.js';
import { FORMAT, FORMAT_VERSION, V1_FILES, type Manifest } from './manifest.js';

/** What a save needs of a model (Model satisfies it; named here so saving sits below model.ts). */
export interface SavableModel extends Layer {
  readonly optimizer: Optimizer | null;
  getCompileConfig(): Record<string, unknown> | null;
  getUserDefinedMetadata(): Record<string, unknown> | undefined;
}

/** Options of `model.save`. */
export interface SaveOptions {
  /** tfjs's userDefinedMetadata, stored in model.json; default: the model's getUserDefinedMetadata(). */
  userDefinedMetadata?: Record<string, unknown>;
}

/** model.json before a store adds the records of the files it wrote. */
export type ManifestBody = Omit<Manifest, 'files'>;

/** A model ready to store: model.json's body and the two data files' bytes. */
export interface EncodedModel {
  /** model.json's content without the `files` records, which the store adds (manifestText). */
  manifest: ManifestBody;
  /** The weights as a safetensors file. */
  weights: Uint8Array;
  /** The optimizer state as a safetensors file (`iterations` and each variable's slots), or null. */
  optimizer: Uint8Array | null;
}

/** The key of each weight in the weights file: its layer path, made unique if two layers share a name. */
export function weightKeys(model: Layer): string[] {
  const used = new Map<string, number>();
  return model.weights.map((w) => {
    const n = used.get(w.path) ?? 0;
    used.set(w.path, n + 1);
    return n === 0 ? w.path : `${w.path}#${n}`;
  });
}

/** `iterations` and each trainable variable's slots under `<weight key>/<slot index>`, or null when not compiled. */
function optimizerState(model: SavableModel, keys: string[]): NamedTensor[] | null {
  const optimizer = model.optimizer;
  if (!optimizer) return null;
  const state: NamedTensor[] = [{ name: 'iterations', tensor: tensor(optimizer.iterations, [], 'int32') }];
  model.weights.forEach((w, i) => {
    optimizer.slotsFor(w.value)?.forEach((s, k) => state.push({ name: `${keys[i]}/${k}`, tensor: s }));
  });
  return state;
}

/**
 * The bytes of a save of `model`.
 * @throws ValueError when the model has no weights yet.
 */
export async function encodeModel(model: SavableModel, options: SaveOptions = {}): Promise<EncodedModel> {
  if (!model.built)
    throw new ValueError(`${model.name}.save: the model has no weights yet; call it on data, fit it, or give its first layer an inputShape`);
  const metadata = options.userDefinedMetadata ?? model.getUserDefinedMetadata();
  // A copy through JSON: what is saved is the metadata as it is now, in JSON's terms.
  const metadataJson = metadata === undefined ? undefined : JSON.stringify(metadata);
  const weights = model.weights;
  const keys = weightKeys(model);
  const state = optimizerState(model, keys);
  const manifest: ManifestBody = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    model: serializeLayer(model),
    trainingConfig: model.getCompileConfig() as ManifestBody['trainingConfig'],
    weights: weights.map((w, i) => ({ key: keys[i], shape: [...w.value.shape], dtype: w.value.dtype, trainable: w.trainable })),
    optimizerState: state ? { entries: state.length } : null,
    ...(metadataJson === undefined ? {} : { userDefinedMetadata: JSON.parse(metadataJson) }),
  };
  return {
    manifest,
    // Asynchronous: weights on the GPU are read with await t.data().
    weights: await encodeSafetensorsAsync(
      weights.map((w, i) => ({ name: keys[i], tensor: w.value })),
      { format: FORMAT },
    ),
    optimizer: state ? await encodeSafetensorsAsync(state, { format: FORMAT, optimizer: model.optimizer!.name }) : null,
  };
}

/** model.json's text: the body with the stored files' records, one key per line for diffs. */
export function manifestText(body: ManifestBody, files: Manifest['files']): string {
  const { userDefinedMetadata, ...rest } = body;
  return `${JSON.stringify({ ...rest, files, ...(userDefinedMetadata === undefined ? {} : { userDefinedMetadata }) }, null, 1)}\n`;
}

/**
 * The records (name, size, SHA-256) of a store that keeps the data files under fixed names:
 * weights.safetensors and optimizer.safetensors unless `names` says otherwise (downloads://name).
 */
export async function fileRecords(model: EncodedModel, names: { weights: string; optimizer: string } = V1_FILES): Promise<Manifest['files']> {
  return {
    weights: await recordOf(names.weights, model.weights),
    optimizer: model.optimizer ? await recordOf(names.optimizer, model.optimizer) : null,
  };
}
