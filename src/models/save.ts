import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ValueError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { collectGarbage, endGeneration, generationFileName, newGeneration, writeGenerationFile, type FileRecord } from '../io/generations.js';
import { encodeSafetensors, type NamedTensor } from '../io/safetensors.js';
import { serializeLayer } from '../nn/registry.js';
import { tensor } from '../tensor/create.js';
import { FORMAT, FORMAT_VERSION, MODEL_FILE, listedFiles, parseManifest, type Manifest } from './manifest.js';
import type { Layer } from '../nn/layer.js';
import type { Optimizer } from '../optimizers/optimizer.js';

/** What a save needs of a model (Model satisfies it; named here so save.ts sits below model.ts). */
export interface SavableModel extends Layer {
  readonly optimizer: Optimizer | null;
  getCompileConfig(): Record<string, unknown> | null;
  getUserDefinedMetadata(): Record<string, unknown> | undefined;
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

// Note [Atomic model saves]
// A model is several files, and a folder cannot be replaced atomically; one file can. So model.json
// is the commit point and everything else is written under new names first:
//   1. weights.<gen>.safetensors and optimizer.<gen>.safetensors are written and fsynced under a
//      generation id new to this save (generations.ts), beside whatever the folder holds;
//   2. the folder is fsynced, so those names survive a crash before model.json points at them;
//   3. model.json (architecture, training config, the weight list, and each data file's name,
//      byte count and SHA-256) is written to a temporary name, fsynced and renamed over the old
//      one: the single step that switches from the old model to the new;
//   4. the old model.json's data files, and files left by crashed or failed saves, are deleted.
// A crash or error before step 3 leaves the old model whole (plus unreferenced files, collected
// by a later save); after it, the new one. Two writers never mix: each model.json names only its
// own generation's files, and the last rename wins. A reader that finds a listed file deleted
// under it (a writer finished between its reads) reads model.json again (load.ts), and every
// data file is checked against its recorded size and checksum, so files from different saves are
// never loaded together. The files:
//   weights.<gen>.safetensors    every weight under its key
//   optimizer.<gen>.safetensors  when compiled: `iterations` and each trainable variable's slots
//                                under `<weight key>/<slot index>`, so a resumed run continues exactly

/** Fsyncs the folder so new entries in it are durable; a platform that cannot is left to its own guarantees. */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a directory; there the rename's own durability is all we get.
  } finally {
    await handle.close();
  }
}

/** The data files the folder's current model.json lists; empty when there is none or it cannot be read. */
export async function currentFiles(dir: string): Promise<Set<string>> {
  const file = join(dir, MODEL_FILE);
  const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  return new Set(bytes ? listedFiles(parseManifest(file, bytes)) : []);
}

export interface SaveOptions {
  /** tfjs's userDefinedMetadata, stored in model.json; default: the model's getUserDefinedMetadata(). */
  userDefinedMetadata?: Record<string, unknown>;
}

function optimizerState(model: SavableModel, keys: string[]): NamedTensor[] | null {
  const optimizer = model.optimizer;
  if (!optimizer) return null;
  const state: NamedTensor[] = [{ name: 'iterations', tensor: tensor(optimizer.iterations, [], 'int32') }];
  model.weights.forEach((w, i) => {
    optimizer.slotsFor(w.value)?.forEach((s, k) => state.push({ name: `${keys[i]}/${k}`, tensor: s }));
  });
  return state;
}

/** Writes the model folder as Note [Atomic model saves] describes. */
export async function saveModel(model: SavableModel, dir: string, options: SaveOptions = {}): Promise<void> {
  if (typeof dir !== 'string' || dir === '')
    throw new ValueError(`${model.name}.save: path must be a non-empty string; received ${JSON.stringify(dir)}`);
  if (!model.built)
    throw new ValueError(`${model.name}.save: the model has no weights yet; call it on data, fit it, or give its first layer an inputShape`);
  const metadata = options.userDefinedMetadata ?? model.getUserDefinedMetadata();
  const metadataJson = metadata === undefined ? undefined : JSON.stringify(metadata);
  await mkdir(dir, { recursive: true });
  const weights = model.weights;
  const keys = weightKeys(model);
  const state = optimizerState(model, keys);

  const gen = newGeneration();
  const written: string[] = [];
  const write = async (role: string, bytes: Uint8Array): Promise<FileRecord> => {
    const name = generationFileName(role, gen, 'safetensors');
    written.push(name);
    return writeGenerationFile(dir, name, bytes);
  };
  let superseded: string[];
  try {
    const files: Manifest['files'] = {
      weights: await write(
        'weights',
        encodeSafetensors(
          weights.map((w, i) => ({ name: keys[i], tensor: w.value })),
          { format: FORMAT },
        ),
      ),
      optimizer: state ? await write('optimizer', encodeSafetensors(state, { format: FORMAT, optimizer: model.optimizer!.name })) : null,
    };
    await syncFolder(dir);
    const manifest = {
      format: FORMAT,
      formatVersion: FORMAT_VERSION,
      model: serializeLayer(model),
      trainingConfig: model.getCompileConfig(),
      weights: weights.map((w, i) => ({ key: keys[i], shape: w.value.shape, dtype: w.value.dtype, trainable: w.trainable })),
      optimizerState: state ? { entries: state.length } : null,
      files,
      ...(metadataJson === undefined ? {} : { userDefinedMetadata: JSON.parse(metadataJson) }),
    };
    // Read just before the switch: these are the files the model we replace needs, deleted after it.
    // An unreadable old model.json (corrupt, or from a newer Strata) is replaced, its files left alone.
    superseded = [...(await currentFiles(dir).catch(() => new Set<string>()))];
    await writeFileAtomic(join(dir, MODEL_FILE), JSON.stringify(manifest, null, 1) + '\n');
  } catch (error) {
    // Nothing points at this generation's files (model.json was not replaced): remove them and
    // leave the old model as it was.
    endGeneration(gen);
    await Promise.all(written.map((name) => unlink(join(dir, name)).catch(() => undefined)));
    throw error;
  }
  endGeneration(gen);
  await collectGarbage(dir, () => currentFiles(dir), superseded);
}
