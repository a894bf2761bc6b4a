// The Keras file formats told apart by their first bytes (a zip's 'PK\x03\x04' is a Keras 3
// `.keras` archive, HDF5's signature a legacy `.h5`), each read by its module. Errors the HDF5
// library raises while reading a damaged file become FormatErrors naming the file.

import { FormatError, StrataError } from '../../core/errors.js';
import type { Model } from '../../models/model.js';
import { type Hdf5Opener, isHdf5 } from './hdf5.js';
import { loadKeras3 } from './keras3.js';
import { loadLegacyH5 } from './legacy-h5.js';

const isZip = (b: Uint8Array) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;

/**
 * Imports the bytes of a `.keras` or legacy `.h5` file named `file`, reading HDF5 through `openHdf5`.
 * @throws FormatError naming the file; ValueError listing unsupported layers.
 */
export async function loadKerasBytes(file: string, bytes: Uint8Array, openHdf5: Hdf5Opener): Promise<Model> {
  try {
    if (isZip(bytes)) return await loadKeras3(file, bytes, openHdf5);
    if (isHdf5(bytes)) return await loadLegacyH5(file, bytes, openHdf5);
  } catch (e) {
    if (e instanceof StrataError) throw e;
    throw new FormatError(`${file}: cannot read the file (${String((e as Error)?.message ?? e).slice(0, 200)})`);
  }
  throw new FormatError(`${file}: neither a Keras 3 .keras archive (zip) nor a Keras .h5 file (HDF5); it starts with other bytes`);
}
