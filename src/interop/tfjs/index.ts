// st.tfjs: TensorFlow.js LayersModels (model.json + weight shards, or in-memory ModelArtifacts)
// imported as Strata functional models.
import { FormatError, ValueError, fmtValue } from '../../core/errors.js';
import { parseJsonFile } from '../../io/bounded-json.js';
import { type NamedBlob, isFileList } from '../../models/files-source.js';
import { registerModelImporter } from '../../models/load.js';
import type { Model } from '../../models/model.js';
import { buildModel } from './build.js';
import { supportedLayers } from './layers.js';
import type { WeightGroup } from './weights.js';

export { supportedLayers };

/**
 * tfjs's ModelArtifacts, as `tf.io.fromMemory` takes them: the Keras topology, one flat list of
 * weight specs and their bytes in the same order.
 */
export interface TfjsArtifacts {
  /** model.json's `modelTopology`: the Keras model config (or an object holding it as `model_config`). */
  modelTopology: object;
  /** The weights, in the order their bytes follow each other in `weightData` (`{name, shape, dtype, quantization?}`). */
  weightSpecs?: readonly object[];
  /** The weights' bytes (tfjs 4 may also hold them as a list of buffers, read in order). */
  weightData?: ArrayBuffer | Uint8Array | readonly ArrayBuffer[];
}

/** How a path becomes bytes: installed by the Node entry (files); a page passes artifacts or a URL. */
let fileReader: ((path: string) => Promise<Uint8Array>) | undefined;

/** Installs the reader `st.tfjs.load(path)` uses for model.json and its shards (the Node entry installs node:fs). */
export function setTfjsFileReader(reader: (path: string) => Promise<Uint8Array>): void {
  fileReader = reader;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

async function read(location: string): Promise<Uint8Array> {
  if (isUrl(location)) {
    const response = await fetch(location);
    if (!response.ok) throw new FormatError(`${location}: HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  }
  if (!fileReader) {
    throw new ValueError(
      `tfjs.load: cannot read the path '${location}' here; pass the model's artifacts ({modelTopology, weightSpecs, weightData}) or an http(s) URL`,
    );
  }
  return fileReader(location);
}

/**
 * Where a shard named in model.json lives: beside model.json. A name that could leave that folder
 * (absolute, '..', a scheme) is refused, so a hostile manifest cannot make us read other files.
 */
function shardLocation(modelFile: string, path: unknown): string {
  if (typeof path !== 'string' || path === '' || /^[a-z][a-z0-9+.-]*:|^[\\/]/i.test(path) || path.split(/[\\/]/).includes('..')) {
    throw new FormatError(`${modelFile}: weightsManifest names the shard ${fmtValue(path)}; expected a relative path inside model.json's folder`);
  }
  if (isUrl(modelFile)) return new URL(path, modelFile).href;
  const slash = Math.max(modelFile.lastIndexOf('/'), modelFile.lastIndexOf('\\'));
  return modelFile.slice(0, slash + 1) + path;
}

/**
 * model.json and its shards, read through `readFile` and checked for shape (the specs themselves
 * are checked in weights.ts). `locate` turns a shard's manifest path into what `readFile` reads.
 */
async function fromFiles(modelFile: string, readFile: (location: string) => Promise<Uint8Array>, locate: (path: unknown) => string): Promise<Model> {
  const json = parseJsonFile(await readFile(modelFile), modelFile) as Record<string, unknown>;
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !('modelTopology' in json) || !Array.isArray(json.weightsManifest)) {
    throw new FormatError(`${modelFile}: not a tfjs LayersModel (expected an object with modelTopology and a weightsManifest list)`);
  }
  const groups: WeightGroup[] = [];
  for (const [g, group] of json.weightsManifest.entries()) {
    const ok = typeof group === 'object' && group !== null && Array.isArray(group.paths);
    if (!ok) throw new FormatError(`${modelFile}: weightsManifest[${g}] must be {paths, weights}; received ${JSON.stringify(group)?.slice(0, 120)}`);
    const files = (group.paths as unknown[]).map(locate);
    const shards = [];
    for (const file of files) shards.push({ file, bytes: await readFile(file) });
    groups.push({ specs: group.weights, shards });
  }
  return buildModel(modelFile, json.modelTopology, groups);
}

/** A path or URL of model.json (or of its folder). */
function fromLocation(source: string): Promise<Model> {
  const modelFile = isUrl(source) || /\.json$/i.test(source) ? source : `${source.replace(/[\\/]$/, '')}/model.json`;
  return fromFiles(modelFile, read, (path) => shardLocation(modelFile, path));
}

/** Files a user picked in a page: model.json and the shards it names, matched by file name as tfjs's browserFiles does. */
function fromPicked(files: ArrayLike<NamedBlob>): Promise<Model> {
  const list = Array.from(files);
  const byName = new Map(list.map((f) => [f.name, f]));
  const json = byName.get('model.json') ?? list.find((f) => f.name.endsWith('.json'));
  if (!json) throw new ValueError(`tfjs.load: none of the files is a model.json; received ${list.map((f) => f.name).join(', ')}`);
  const readPicked = async (name: string) => {
    const file = byName.get(name);
    if (!file)
      throw new FormatError(`${json.name}: names the shard '${name}', which is not among the files given (${list.map((f) => f.name).join(', ')})`);
    return new Uint8Array(await file.arrayBuffer());
  };
  return fromFiles(json.name, readPicked, (path) => {
    if (typeof path !== 'string') throw new FormatError(`${json.name}: weightsManifest names the shard ${fmtValue(path)}; expected a file name`);
    return path.slice(path.lastIndexOf('/') + 1);
  });
}

/** In-memory artifacts: one group whose bytes are weightData. */
function fromArtifacts(a: TfjsArtifacts): Model {
  const name = 'tfjs artifacts';
  const data = a.weightData ?? new ArrayBuffer(0);
  const parts = Array.isArray(data) ? data : [data];
  const shards = parts.map((p, i) => {
    if (!(p instanceof ArrayBuffer) && !(p instanceof Uint8Array))
      throw new ValueError(`tfjs.load: weightData must be an ArrayBuffer, a Uint8Array or a list of ArrayBuffers; received ${fmtValue(p)}`);
    return { file: `${name} (weightData${parts.length > 1 ? `[${i}]` : ''})`, bytes: p instanceof Uint8Array ? p : new Uint8Array(p) };
  });
  return buildModel(name, a.modelTopology, [{ specs: a.weightSpecs ?? [], shards }]);
}

/**
 * Imports a TensorFlow.js LayersModel (what `model.save` in tfjs or the tensorflowjs converter
 * writes from Keras 2.x) as a Strata functional (or Sequential) model with the same layer names and
 * weights, uncompiled: it predicts, trains with `compile` and `fit`, and saves with `model.save`.
 * The source is a model.json path (Node; its folder works too), an http(s) URL of model.json, the
 * files a user picked in a page (model.json and its shards), or tfjs's in-memory ModelArtifacts. Shards are read from model.json's folder; quantized weights
 * (uint8, uint16, float16) are decoded to float32. See `supportedLayers()` for the layer classes.
 * @throws FormatError naming the file for a malformed model.json, a missing or truncated shard, or
 *   a weight whose shape disagrees with its bytes or its layer; ValueError listing every
 *   unsupported layer with its name.
 * @example
 * ```ts
 * const model = await st.tfjs.load('web_model/model.json');
 * const y = model.predict(st.zeros([1, 224, 224, 3])) as st.Tensor;
 * await model.save('imported');
 * ```
 */
export async function load(source: string | TfjsArtifacts | ArrayLike<NamedBlob>): Promise<Model> {
  if (typeof source === 'string' && source !== '') return fromLocation(source);
  if (isFileList(source)) return fromPicked(source);
  if (typeof source === 'object' && source !== null && 'modelTopology' in source) return fromArtifacts(source);
  throw new ValueError(
    `tfjs.load: expected a model.json path or URL, or artifacts {modelTopology, weightSpecs, weightData}; received ${fmtValue(source)}`,
  );
}

// st.loadModel hands tfjs model.json files it finds to this importer.
registerModelImporter('tfjs-layers', (source) => load(source));

/** What `st.tfjs` holds. */
export interface TfjsApi {
  /** Imports a tfjs LayersModel (a model.json path in Node, an http(s) URL, picked files, or ModelArtifacts) as a Strata model. */
  load: typeof load;
  /** The Keras layer classes the importer converts. */
  supportedLayers: typeof supportedLayers;
}

/** `st.tfjs`: `load(pathOrUrlOrArtifacts)` imports a TensorFlow.js LayersModel; `supportedLayers()` lists the layer classes it converts. */
export const tfjs: TfjsApi = { load, supportedLayers };
