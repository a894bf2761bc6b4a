// A legacy whole-model Keras `.h5` file (Keras 2 / tf.keras `model.save('x.h5')`): the root
// attribute `model_config` holds the Keras 2 config JSON the tfjs importer converts, and group
// `model_weights` one group per layer whose attribute `weight_names` lists its weights
// (`dense/kernel:0`), each a dataset at that path inside the layer's group. The names are the same
// as a tfjs weights manifest's, so the tfjs importer's name matching assigns them.

import { FormatError } from '../../core/errors.js';
import { parseJsonFile } from '../../io/bounded-json.js';
import type { Model } from '../../models/model.js';
import { assignWeights, rebuildModel } from '../tfjs/build.js';
import type { DecodedWeight } from '../tfjs/weights.js';
import { type H5Group, type Hdf5Opener, checkHdf5Bytes, readFloats } from './hdf5.js';

/**
 * A list-of-strings attribute. Keras splits one past HDF5's 64 KiB attribute limit into `name0`,
 * `name1`, ... (hdf5_format's save_attributes_to_hdf5_group), so those are joined.
 */
function stringList(file: string, group: H5Group, name: string, where: string): string[] {
  let value = group.attr(name);
  if (value === undefined && group.attr(`${name}0`) !== undefined) {
    const parts: unknown[] = [];
    for (let i = 0; group.attr(`${name}${i}`) !== undefined; i++) parts.push(group.attr(`${name}${i}`));
    value = parts.flat();
  }
  if (typeof value === 'string') value = [value];
  // A layer without weights: Keras assigns an empty Python list, which h5py stores as an empty float64 array.
  if (ArrayBuffer.isView(value) && (value as Float64Array).length === 0) value = [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new FormatError(`${file}: ${where} needs a list of strings as attribute '${name}'; received ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  return value as string[];
}

/** Every weight of `model_weights`, by its Keras name, with its values. */
function readWeights(file: string, weights: H5Group, fileBytes: number): Map<string, DecodedWeight> {
  const decoded = new Map<string, DecodedWeight>();
  for (const layer of stringList(file, weights, 'layer_names', 'model_weights')) {
    const group = weights.get(layer);
    if (group?.kind !== 'group') throw new FormatError(`${file}: model_weights lists the layer '${layer}' but has no group of that name`);
    for (const name of stringList(file, group, 'weight_names', `model_weights/${layer}`)) {
      const d = group.get(name);
      if (d?.kind !== 'dataset') throw new FormatError(`${file}: model_weights/${layer} names the weight '${name}' but holds no such dataset`);
      if (decoded.has(name)) throw new FormatError(`${file}: two layers hold a weight named '${name}'`);
      decoded.set(name, { shape: d.shape, dtype: 'float32', values: readFloats(file, `model_weights/${layer}/${name}`, d, fileBytes) });
    }
  }
  return decoded;
}

/**
 * Imports a legacy Keras `.h5` file holding a whole model.
 * @throws FormatError naming `file` for a weights-only file, a missing or malformed config, or
 *   weights that disagree with the layers; ValueError listing every unsupported layer.
 */
export async function loadLegacyH5(file: string, bytes: Uint8Array, openHdf5: Hdf5Opener): Promise<Model> {
  checkHdf5Bytes(file, bytes);
  const h5 = await openHdf5(bytes, file);
  try {
    const text = h5.attr('model_config');
    if (typeof text !== 'string') {
      const keras3 = h5.get('layers') !== undefined || h5.get('vars') !== undefined;
      throw new FormatError(
        `${file}: an HDF5 file without a model_config attribute: ${
          keras3
            ? "Keras 3's model.weights.h5 (weights only); load the .keras archive that holds it"
            : 'weights only (save_weights); no architecture to rebuild'
        }`,
      );
    }
    const config = parseJsonFile(new TextEncoder().encode(text), `${file} (model_config)`);
    // Weights are stored uncompressed, so the file's size bounds what the architecture may allocate.
    const { model, weightNames } = rebuildModel(file, config, bytes.length, 'Keras');
    const weights = h5.get('model_weights');
    if (weights?.kind !== 'group') throw new FormatError(`${file}: no model_weights group`);
    assignWeights(model, file, readWeights(file, weights, bytes.length), weightNames);
    return model;
  } finally {
    h5.close();
  }
}
