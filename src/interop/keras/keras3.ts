// A Keras 3 `.keras` archive: config.json (the model's Keras 3 serialization) converted by the tfjs
// importer's topology.ts, and model.weights.h5, whose variables carry no names: Keras's saving_lib
// writes each layer's variables by position, `layers/<name>/vars/<i>` (Note [Keras 3 weight
// paths]), so they are matched to Strata's layers by path and order, with every shape checked.

import { FormatError, fmtShape } from '../../core/errors.js';
import { shapesEqual } from '../../core/shape.js';
import { parseJsonFile } from '../../io/bounded-json.js';
import { Model } from '../../models/model.js';
import type { Layer } from '../../nn/layer.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ATTENTION_CLASSES } from '../tfjs/attention-calls.js';
import { rebuildModel } from '../tfjs/build.js';
import { type H5Dataset, type H5Group, type Hdf5Opener, checkHdf5Bytes, readFloats } from './hdf5.js';
import { readZip } from './zip.js';

// Note [Keras 3 weight paths]
// saving_lib's `_save_state` walks the model's attributes in sorted order: a layer's own variables
// are written by `Layer.save_own_variables` as `<path>/vars/0, 1, ...` (trainable ones, then the
// others, each in creation order: Keras's weight order, which Strata's layers share), and a child
// layer or a list of layers gets `<path>/<attribute>/...`. A model's `layers` list gives
// `layers/<layer name>`; a nested model's layers sit under `layers/<model>/layers/<name>`; a layer's
// sub-layer (an LSTM's `cell`) under `layers/<lstm>/cell`. So a layer's weights are its own vars,
// then its sub-groups' in name order. Layers without variables (and the model) get an empty vars group.

const WEIGHTS = 'model.weights.h5';
/**
 * How deep the walks below go: Keras nests a few levels per nested model, and HDF5 hard links can
 * make a group its own descendant, which an unbounded walk would follow forever.
 */
const MAX_DEPTH = 32;

function checkDepth(file: string, path: string): void {
  if (path.split('/').length > MAX_DEPTH)
    throw new FormatError(`${file}: groups nest deeper than ${MAX_DEPTH} levels at ${path.slice(0, 200)}... (a cycle?)`);
}

/**
 * Keras 3's attention layers keep their four projections (EinsumDense) as `_query_dense`,
 * `_key_dense`, `_value_dense` and `_output_dense`, whose names sort key, output, query, value;
 * Strata's weights go query, key, value, output (Keras's creation order), so these sub-groups are
 * read in that order, not by name.
 */
const ATTENTION_PROJECTIONS = ['_query_dense', '_key_dense', '_value_dense', '_output_dense'];

/** `keys` sorted, those named in `first` moved to the front in its order. */
function ordered(keys: string[], first: readonly string[] = []): string[] {
  return [...first.filter((k) => keys.includes(k)), ...keys.filter((k) => !first.includes(k)).sort()];
}

/** A layer's datasets in Keras order: its own vars/0, 1, ..., then each sub-group's (not a nested model's layers). */
function layerDatasets(file: string, group: H5Group, path: string, subOrder?: readonly string[]): [string, H5Dataset][] {
  checkDepth(file, path);
  const out: [string, H5Dataset][] = [];
  const vars = group.get('vars');
  if (vars?.kind === 'group') {
    const keys = vars.keys();
    keys.forEach((_, i) => {
      const d = vars.get(String(i));
      if (d?.kind !== 'dataset') throw new FormatError(`${file}: ${path}/vars holds ${keys.join(', ')}; expected datasets 0 to ${keys.length - 1}`);
      out.push([`${path}/vars/${i}`, d]);
    });
  }
  for (const key of ordered(group.keys(), subOrder)) {
    const sub = key === 'vars' ? undefined : group.get(key);
    if (sub?.kind === 'group') out.push(...layerDatasets(file, sub, `${path}/${key}`));
  }
  return out;
}

/** Every dataset's path below `group`, to report the ones no layer took. */
function allDatasets(file: string, group: H5Group, path: string, out: string[]): string[] {
  checkDepth(file, path);
  for (const key of group.keys()) {
    const m = group.get(key);
    if (m?.kind === 'dataset') out.push(`${path}/${key}`);
    else if (m?.kind === 'group') allDatasets(file, m, `${path}/${key}`, out);
  }
  return out;
}

/** Assigns the weights of `model`'s layers from `root` (`layers/...`), collecting every problem before throwing. */
function assignByPath(file: string, root: H5Group, model: Model, fileBytes: number): void {
  const problems: string[] = [];
  const used = new Set<string>();
  const visit = (m: Model, prefix: string) => {
    for (const layer of m.layers) {
      const path = `${prefix}/${layer.name}`;
      if (layer instanceof Model) {
        visit(layer, `${path}/layers`);
        continue;
      }
      if (layer.weights.length === 0) continue;
      const group = root.get(path);
      if (group?.kind !== 'group') {
        problems.push(`no group ${path} for layer '${layer.name}' (${layer.weights.length} weights)`);
        continue;
      }
      const datasets = layerDatasets(file, group, path, ATTENTION_CLASSES.includes(layer.className) ? ATTENTION_PROJECTIONS : undefined);
      if (datasets.length !== layer.weights.length) {
        problems.push(`${path} holds ${datasets.length} weights; layer '${layer.name}' has ${layer.weights.length}`);
        continue;
      }
      assignLayer(file, layer, datasets, fileBytes, problems);
      for (const [p] of datasets) used.add(p);
    }
  };
  visit(model, 'layers');
  const layers = root.get('layers');
  const extra = layers?.kind === 'group' ? allDatasets(file, layers, 'layers', []).filter((p) => !used.has(p)) : [];
  if (extra.length && !problems.length) problems.push(`${extra.length} weight(s) no layer has: ${extra.slice(0, 5).join(', ')}`);
  if (problems.length) {
    const more = problems.length > 8 ? `, and ${problems.length - 8} more` : '';
    throw new FormatError(`${file}: ${problems.length} problem(s) with the weights: ${problems.slice(0, 8).join('; ')}${more}`);
  }
}

/** Checks every dataset's shape against the layer's weight before setting any of them. */
function assignLayer(file: string, layer: Layer, datasets: [string, H5Dataset][], fileBytes: number, problems: string[]): void {
  const values: Tensor[] = [];
  datasets.forEach(([path, d], i) => {
    const w = layer.weights[i];
    if (!shapesEqual(d.shape, w.value.shape)) {
      problems.push(`${path} has shape ${fmtShape(d.shape)}; layer '${layer.name}' expects ${fmtShape(w.value.shape)} for its ${w.name}`);
      return;
    }
    values.push(tensor(readFloats(file, path, d, fileBytes), d.shape, w.value.dtype));
  });
  if (values.length === datasets.length) layer.setWeights(values);
}

/**
 * Imports a Keras 3 `.keras` archive. `file` names it in errors (config.json and the weights are
 * named inside it: `model.keras (config.json)`).
 * @throws FormatError for a damaged archive or a missing or malformed part; ValueError listing
 *   every unsupported layer.
 */
export async function loadKeras3(file: string, bytes: Uint8Array, openHdf5: Hdf5Opener): Promise<Model> {
  const { names, entries } = readZip(file, bytes, ['config.json', WEIGHTS]);
  const configBytes = entries.get('config.json');
  if (!configBytes) throw new FormatError(`${file}: the .keras archive has no config.json (it holds ${names.slice(0, 10).join(', ') || 'nothing'})`);
  const config = parseJsonFile(configBytes, `${file} (config.json)`);
  const weights = entries.get(WEIGHTS);
  const weightsFile = `${file} (${WEIGHTS})`;
  // The weights file bounds what the architecture may allocate: a config claiming 2^28 units is refused before allocating.
  const { model } = rebuildModel(`${file} (config.json)`, config, weights?.length ?? 0, 'Keras');
  if (!weights) {
    if (model.weights.length === 0) return model;
    throw new FormatError(`${file}: the .keras archive has no ${WEIGHTS}, and the model has ${model.weights.length} weights`);
  }
  checkHdf5Bytes(weightsFile, weights);
  const h5 = await openHdf5(weights, weightsFile);
  try {
    assignByPath(weightsFile, h5, model, weights.length);
  } finally {
    h5.close();
  }
  return model;
}
