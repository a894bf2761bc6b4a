// Loading a model from files the user picked in a page (`<input type=file multiple>`, drag and
// drop): model.json and the data files it names, matched by file name. Blob and File are web
// standards that Node has too, so this is portable and tested in Node.

import { FormatError, ValueError } from '../core/errors.js';
import { verifyRecord } from '../io/file-record.js';
import { MODEL_FILE, isUnrecorded, parseManifest } from './manifest.js';
import type { StoredModel } from './model-stores.js';

/** A picked file: a Blob with a name (File). */
export interface NamedBlob {
  /** The file's name (model.json, or the name model.json records for a data file). */
  readonly name: string;
  /** Its size in bytes. */
  readonly size: number;
  /** Its bytes. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

const isNamedBlob = (f: unknown): f is NamedBlob =>
  typeof f === 'object' && f !== null && typeof (f as NamedBlob).name === 'string' && typeof (f as NamedBlob).arrayBuffer === 'function';

/** Whether `source` is a list of files (an array or a FileList). */
export function isFileList(source: unknown): source is ArrayLike<NamedBlob> {
  if (typeof source !== 'object' || source === null || typeof (source as ArrayLike<unknown>).length !== 'number') return false;
  const list = Array.from(source as ArrayLike<unknown>);
  return list.length > 0 && list.every(isNamedBlob);
}

const read = async (file: NamedBlob): Promise<Uint8Array> => new Uint8Array(await file.arrayBuffer());

/** model.json and the data files it lists, from a list of picked files. */
export async function filesSource(files: ArrayLike<NamedBlob>, wantOptimizer: boolean): Promise<StoredModel> {
  const list = Array.from(files);
  const byName = new Map(list.map((f) => [f.name, f]));
  const json = byName.get(MODEL_FILE) ?? list.find((f) => f.name.endsWith('.json'));
  if (!json) throw new ValueError(`loadModel: none of the files is a model.json; received ${list.map((f) => f.name).join(', ')}`);
  const manifest = parseManifest(json.name, await read(json));
  const data = async (path: string, role: 'weights' | 'optimizer'): Promise<Uint8Array> => {
    const record = manifest.files[role]!;
    const file = byName.get(record.path);
    if (!file)
      throw new FormatError(
        `${json.name}: lists ${role} file '${record.path}', which is not among the files given (${list.map((f) => f.name).join(', ')})`,
      );
    if (isUnrecorded(record)) return read(file);
    // Size first, as the file store does: a file of the wrong size is refused without reading it.
    if (file.size !== record.bytes)
      throw new FormatError(
        `${path}: holds ${file.size} bytes; ${json.name} recorded ${record.bytes}. The file was changed or cut short after the save; save the model again`,
      );
    return verifyRecord(await read(file), record, path, json.name);
  };
  const weights = await data(manifest.files.weights.path, 'weights');
  const optimizer = wantOptimizer && manifest.files.optimizer ? await data(manifest.files.optimizer.path, 'optimizer') : null;
  return {
    manifest,
    weights,
    optimizer,
    names: { model: json.name, weights: manifest.files.weights.path, optimizer: manifest.files.optimizer?.path ?? 'optimizer' },
  };
}
