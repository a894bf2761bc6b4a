import { ValueError } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { filesSource, isFileList, type NamedBlob } from './files-source.js';
import { ForeignModelFile } from './manifest.js';
import { decodeModel } from './model-decode.js';
import { storeFor, type ModelStore } from './model-stores.js';
import type { Model } from './model.js';

/** Reads a model.json of another library's format (its path or URL, or the picked files holding it) as a Strata model. */
type ModelImporter = (source: string | ArrayLike<NamedBlob>) => Promise<Model>;

// Importers live above models/ in the layering (src/interop/), so they register themselves here
// when the barrel imports them, and loadModel hands them the model.json a store recognised as theirs.
const importers = new Map<string, ModelImporter>();

/** Lets st.loadModel read model.json files of `format` ('tfjs-layers') through `importer`. */
export function registerModelImporter(format: string, importer: ModelImporter): void {
  importers.set(format, importer);
}

/** Options of `st.loadModel`. */
export interface LoadOptions {
  /** Restore the compile arguments and optimizer state (default true when the file has them). */
  compile?: boolean;
}

/**
 * Loads a model written by model.save(): from a folder (Node), 'indexeddb://name', an
 * 'http(s)://.../model.json' URL, or the files a user picked (`<input type=file multiple>`:
 * model.json and the data files it lists). Rebuilds the architecture from registered layer
 * classes only (nothing in the files is evaluated), checks every data file against the size and
 * checksum model.json recorded and every weight's key, shape and dtype against both model.json
 * and the rebuilt model, and restores compile arguments and optimizer state so training resumes
 * where it stopped. Files are read within the limits of `st.setReadLimits`. A TensorFlow.js
 * LayersModel (a model.json with `modelTopology` and `weightsManifest`, named directly, by its
 * folder or among picked files) is imported as `st.tfjs.load` would, uncompiled, and a path ending
 * in `.keras` or `.h5` as `st.keras.load` would (Node-only).
 * @throws FormatError naming the file for a missing, truncated or inconsistent file (a checksum
 * or size that does not match, an unknown layer class, a weight of the wrong shape).
 * @example
 * ```ts
 * const model = await st.loadModel('runs/mnist');
 * const probabilities = model.predict(st.zeros([1, 28, 28, 1])) as st.Tensor;
 * console.log(probabilities.shape);
 * ```
 */
export async function loadModel(source: string | ModelStore | ArrayLike<NamedBlob>, options: LoadOptions = {}): Promise<Model> {
  checkKeys('loadModel', options, ['compile']);
  const compile = options.compile ?? true;
  if (isFileList(source)) {
    try {
      return decodeModel(await filesSource(source, compile), compile);
    } catch (e) {
      const importer = e instanceof ForeignModelFile ? importers.get(e.format) : undefined;
      if (importer) return importer(source);
      throw e;
    }
  }
  if (typeof source === 'object' && source !== null && typeof (source as ModelStore).load === 'function') {
    return decodeModel(await (source as ModelStore).load!('', compile), compile);
  }
  if (typeof source !== 'string' || source === '')
    throw new ValueError(
      `loadModel: expected a non-empty path or URL, a store with a load method, or a list of files; received ${JSON.stringify(source) ?? String(source)}`,
    );
  // A Keras file (.keras, .h5) goes to the Keras importer (st.keras.load).
  if (!/^https?:\/\//i.test(source) && /\.(keras|h5|hdf5)$/i.test(source) && importers.has('keras')) return importers.get('keras')!(source);
  // A model.json named directly: a Strata model is read from its folder; another name can only be an imported format.
  let location = source;
  if (!/^https?:\/\//i.test(source) && /\.json$/i.test(source)) {
    const slash = Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\'));
    if (source.slice(slash + 1) === 'model.json') location = slash < 0 ? '.' : source.slice(0, slash) || '/';
    else if (importers.has('tfjs-layers')) return importers.get('tfjs-layers')!(source);
  }
  try {
    return decodeModel(await storeFor('loadModel', location, 'load').load!(location, compile), compile);
  } catch (e) {
    const importer = e instanceof ForeignModelFile ? importers.get(e.format) : undefined;
    if (importer) return importer((e as ForeignModelFile).file);
    throw e;
  }
}
