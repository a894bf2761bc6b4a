// Node-only: what st.keras.load needs, installed by the Node entry: node:fs for paths, and the
// importer with h5wasm as its HDF5 reader (imported on first use, keras-hdf5.ts).
import { readFile } from 'node:fs/promises';
import { FormatError } from '../core/errors.js';
import { setKerasServices } from '../interop/keras/index.js';
import { loadKerasBytes } from '../interop/keras/loader.js';
import { openHdf5 } from './keras-hdf5.js';

setKerasServices({
  async readFile(path) {
    try {
      return await readFile(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new FormatError(`${path}: cannot read the Keras file (${code === 'ENOENT' ? 'no such file' : ((e as Error).message ?? code)})`);
    }
  },
  loadBytes: (file, bytes) => loadKerasBytes(file, bytes, openHdf5),
});
