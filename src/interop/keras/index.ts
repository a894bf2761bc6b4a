// st.keras: Keras 3 `.keras` archives and legacy whole-model `.h5` files imported as Strata
// models. Reading them needs HDF5 (h5wasm, 4 MB of WebAssembly) and the zip reader, which the
// Node entry installs (src/node/keras-files.ts); the browser bundle leaves them out, so there
// `load` says it is Node-only.

import { ValueError, fmtValue } from '../../core/errors.js';
import { registerModelImporter } from '../../models/load.js';
import type { Model } from '../../models/model.js';
import { supportedLayers } from '../tfjs/layers.js';

/** What a platform installs for st.keras.load: file reading and the parser of the bytes. */
export interface KerasServices {
  /** Reads a path's bytes; a missing file is a FormatError naming it. */
  readFile(path: string): Promise<Uint8Array>;
  /** Imports the bytes of a `.keras` or `.h5` file, `file` naming it in errors. */
  loadBytes(file: string, bytes: Uint8Array): Promise<Model>;
}

let services: KerasServices | undefined;

/** Installs what st.keras.load needs (the Node entry does). */
export function setKerasServices(s: KerasServices): void {
  services = s;
}

/**
 * Imports a Keras model file as a Strata model (uncompressed, uncompiled, same layer names and
 * weights): a Keras 3 `.keras` archive (config.json and model.weights.h5) or a legacy Keras 2
 * whole-model `.h5` file, given as a path or as the file's bytes. The format is told by its
 * first bytes. Layers convert as in `st.tfjs.load` (see `supportedLayers()`); nothing in the file
 * is evaluated, so a Lambda layer is refused. Node-only: HDF5 is read with h5wasm, which the
 * browser bundle leaves out.
 * @throws FormatError naming the file for a damaged or truncated archive or HDF5 file, a missing
 *   config.json, a config that is not JSON, or a weight whose count or shape disagrees with its
 *   layer (every such problem listed); ValueError listing every unsupported layer, or in a page.
 * @example
 * ```ts
 * const model = await st.keras.load('model.keras');
 * const y = model.predict(st.zeros([1, 28, 28, 1])) as st.Tensor;
 * ```
 */
export async function load(source: string | Uint8Array | ArrayBuffer): Promise<Model> {
  if (!services) {
    throw new ValueError(
      'keras.load is Node-only: reading .keras and .h5 files needs HDF5 (h5wasm), which the browser bundle leaves out; ' +
        'in a page, convert the model with tensorflowjs_converter and use st.tfjs.load',
    );
  }
  if (typeof source === 'string' && source !== '') return services.loadBytes(source, await services.readFile(source));
  if (source instanceof Uint8Array) return services.loadBytes('Keras bytes', source);
  if (source instanceof ArrayBuffer) return services.loadBytes('Keras bytes', new Uint8Array(source));
  throw new ValueError(`keras.load: expected a .keras or .h5 path, or the file's bytes; received ${fmtValue(source)}`);
}

// st.loadModel hands .keras and .h5 paths to this importer.
registerModelImporter('keras', (source) => {
  if (typeof source !== 'string') throw new ValueError('loadModel: .keras and .h5 files are read from a path (Node-only)');
  return load(source);
});

/** What `st.keras` holds. */
export interface KerasApi {
  /** Imports a Keras 3 `.keras` or legacy `.h5` file (a path or its bytes; Node-only) as a Strata model. */
  load: typeof load;
  /** The Keras layer classes the importer converts (the tfjs importer's). */
  supportedLayers: typeof supportedLayers;
}

/** `st.keras`: `load(pathOrBytes)` imports a Keras `.keras` or `.h5` file (Node-only); `supportedLayers()` lists the layer classes it converts. */
export const keras: KerasApi = { load, supportedLayers };
