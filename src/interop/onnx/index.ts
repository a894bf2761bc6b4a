// st.onnx: ONNX models imported as Strata functional models.
import { FormatError, ValueError, fmtValue } from '../../core/errors.js';
import type { Model } from '../../models/model.js';
import { importModel, type ImportOptions } from './build.js';
import { decodeModel } from './decode.js';
import { supportedOps } from './ops.js';
import { exportableLayers, save, setOnnxFileWriter, toBytes } from './export.js';

export { supportedOps, exportableLayers, save, setOnnxFileWriter, toBytes };
export type { ImportOptions } from './build.js';
export type { OnnxTensor } from './tensors.js';
export { OnnxNode, type OnnxNodeArgs, type InputSpec } from './layer.js';

/** How a path becomes bytes: installed by the Node entry (files); a page passes bytes or a URL. */
let fileReader: ((path: string) => Promise<Uint8Array>) | undefined;

/** Installs the reader `st.onnx.load(path)` uses for paths (the Node entry installs node:fs). */
export function setOnnxFileReader(reader: (path: string) => Promise<Uint8Array>): void {
  fileReader = reader;
}

async function bytesOf(source: string | Uint8Array | ArrayBuffer): Promise<[Uint8Array, string]> {
  if (source instanceof Uint8Array) return [source, 'ONNX bytes'];
  if (source instanceof ArrayBuffer) return [new Uint8Array(source), 'ONNX bytes'];
  if (typeof source !== 'string') throw new ValueError(`onnx.load: expected a path, a URL or bytes; received ${fmtValue(source)}`);
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source);
    if (!response.ok) throw new FormatError(`${source}: HTTP ${response.status} ${response.statusText}`);
    return [new Uint8Array(await response.arrayBuffer()), source];
  }
  if (!fileReader)
    throw new ValueError(`onnx.load: cannot read the path '${source}' here; pass the file's bytes (a Uint8Array or ArrayBuffer) or an http(s) URL`);
  return [await fileReader(source), source];
}

/**
 * Imports an ONNX model (opsets 1 to 20 of the default domain; ONNX 1.12's test data checks
 * them up to 17) as a Strata functional model that takes and returns
 * tensors in the ONNX graph's own shapes (an NCHW input stays NCHW). Its initializers become
 * weights, so the model trains with `fit` and saves with `save` like any other.
 * @throws FormatError for a file that is not a valid ONNX model (naming the file and the problem);
 *   ValueError listing every unsupported operator with its node and opset.
 * @example
 * ```ts
 * const model = await st.onnx.load('resnet18.onnx');
 * const y = model.predict(st.zeros([1, 3, 224, 224]));
 * ```
 */
export async function load(source: string | Uint8Array | ArrayBuffer, options: ImportOptions = {}): Promise<Model> {
  const [bytes, name] = await bytesOf(source);
  return importModel(decodeModel(bytes, name), name, options);
}

/** What `st.onnx` holds. */
export interface OnnxApi {
  /** Imports an ONNX model (a path in Node, an http(s) URL, or bytes) as a functional model taking and returning the graph's own shapes. */
  load: typeof load;
  /** The ONNX operators the importer handles. */
  supportedOps: typeof supportedOps;
  /** Exports a model to an ONNX file (Node), replaced atomically. */
  save: typeof save;
  /** Exports a model as ONNX bytes (pages: download or upload them). */
  toBytes: typeof toBytes;
  /** The Strata layer classes export handles. */
  exportableLayers: typeof exportableLayers;
}

/**
 * `st.onnx`: `load(pathOrBytes)` imports an ONNX model; `supportedOps()` lists the operators it handles;
 * `save(model, path)` and `toBytes(model)` export one; `exportableLayers()` lists the layer classes export handles.
 */
export const onnx: OnnxApi = { load, supportedOps, save, toBytes, exportableLayers };
