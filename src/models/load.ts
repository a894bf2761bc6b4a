import { ValueError } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { filesSource, isFileList, type NamedBlob } from './files-source.js';
import { decodeModel } from './model-decode.js';
import { storeFor, type ModelStore } from './model-stores.js';
import type { Model } from './model.js';

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
 * where it stopped. Files are read within the limits of `st.setReadLimits`.
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
  if (isFileList(source)) return decodeModel(await filesSource(source, compile), compile);
  if (typeof source === 'object' && source !== null && typeof (source as ModelStore).load === 'function') {
    return decodeModel(await (source as ModelStore).load!('', compile), compile);
  }
  if (typeof source !== 'string' || source === '')
    throw new ValueError(
      `loadModel: expected a non-empty path or URL, a store with a load method, or a list of files; received ${JSON.stringify(source) ?? String(source)}`,
    );
  const stored = await storeFor('loadModel', source, 'load').load!(source, compile);
  return decodeModel(stored, compile);
}
