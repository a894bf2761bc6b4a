// Node only: models saved as folders on the file system, atomically.
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../core/errors.js';
import { writeFileAtomic } from './io/atomic-write.js';
import { collectGarbage, endGeneration, generationFileName, newGeneration, readRecordedFile, writeGenerationFile } from './io/generations.js';
import type { FileRecord } from '../io/file-record.js';
import { MODEL_FILE, isUnrecorded, listedFiles, parseManifest, type Manifest } from '../models/manifest.js';
import { manifestText, type EncodedModel } from '../models/model-encode.js';
import type { ModelStore, StoredModel } from '../models/model-stores.js';

// Note [Atomic model saves]
// A model is several files, and a folder cannot be replaced atomically; one file can. So model.json
// is the commit point and everything else is written under new names first:
//   1. weights.<gen>.safetensors and optimizer.<gen>.safetensors are written and fsynced under a
//      generation id new to this save (node/io/generations.ts), beside whatever the folder holds;
//   2. the folder is fsynced, so those names survive a crash before model.json points at them;
//   3. model.json (architecture, training config, the weight list, and each data file's name,
//      byte count and SHA-256) is written to a temporary name, fsynced and renamed over the old
//      one: the single step that switches from the old model to the new;
//   4. the old model.json's data files, and files left by crashed or failed saves, are deleted.
// A crash or error before step 3 leaves the old model whole (plus unreferenced files, collected
// by a later save); after it, the new one. Two writers never mix: each model.json names only its
// own generation's files, and the last rename wins. A reader that finds a listed file deleted
// under it (a writer finished between its reads) reads model.json again (loadFolder below), and
// every data file is checked against its recorded size and checksum, so files from different
// saves are never loaded together. The files:
//   weights.<gen>.safetensors    every weight under its key
//   optimizer.<gen>.safetensors  when compiled: `iterations` and each trainable variable's slots
//                                under `<weight key>/<slot index>`, so a resumed run continues exactly
// The same files, under their plain names, are what the browser stores write (src/browser/).

/** A folder path from 'runs/x' or 'file://runs/x'. */
const folderOf = (location: string): string => location.replace(/^file:\/\//i, '');

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

/** Writes the model folder as Note [Atomic model saves] describes. */
async function saveFolder(location: string, model: EncodedModel): Promise<void> {
  const dir = folderOf(location);
  await mkdir(dir, { recursive: true });
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
      weights: await write('weights', model.weights),
      optimizer: model.optimizer ? await write('optimizer', model.optimizer) : null,
    };
    await syncFolder(dir);
    // Read just before the switch: these are the files the model we replace needs, deleted after it.
    // An unreadable old model.json (corrupt, or from a newer Strata) is replaced, its files left alone.
    superseded = [...(await currentFiles(dir).catch(() => new Set<string>()))];
    await writeFileAtomic(join(dir, MODEL_FILE), manifestText(model.manifest, files));
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

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new FormatError(`${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A data file of model.json: verified against its record (version 2), or read as is (version 1). */
function readData(dir: string, record: FileRecord, modelFile: string): Promise<Uint8Array> {
  return isUnrecorded(record) ? readBytes(join(dir, record.path)) : readRecordedFile(dir, record, modelFile);
}

/**
 * Reads model.json and its data files. A writer that commits while we read deletes the files the
 * old model.json listed (Note [Atomic model saves]); then model.json has changed and we read again.
 */
async function loadFolder(location: string, wantOptimizer: boolean): Promise<StoredModel> {
  const dir = folderOf(location);
  const modelFile = join(dir, MODEL_FILE);
  for (let attempt = 1; ; attempt++) {
    const bytes = await readBytes(modelFile);
    const manifest = parseManifest(modelFile, bytes);
    try {
      const weights = await readData(dir, manifest.files.weights, modelFile);
      const optimizer = wantOptimizer && manifest.files.optimizer ? await readData(dir, manifest.files.optimizer, modelFile) : null;
      const names = {
        model: modelFile,
        weights: join(dir, manifest.files.weights.path),
        optimizer: join(dir, manifest.files.optimizer?.path ?? 'optimizer.safetensors'),
      };
      return { manifest, weights, optimizer, names };
    } catch (e) {
      const changed = attempt < 5 && !Buffer.from(bytes).equals(await readFile(modelFile).catch(() => Buffer.alloc(0)));
      if (!changed) throw e;
    }
  }
}

/** The file system store: plain paths and file:// locations (registered by the Node entry). */
export const fileStore: ModelStore = { save: saveFolder, load: loadFolder };
