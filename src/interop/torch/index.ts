// st.torch: PyTorch state dicts in the safetensors format, into and out of Strata models. The
// file is read by Strata's own safetensors decoder (every hostile-input check included); this
// folder only decides names (names.ts, plan.ts) and layouts (layouts.ts).
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../../io/safetensors.js';
import { Model } from '../../models/model.js';
import { cast } from '../../ops/elementwise.js';
import { noGrad } from '../../tensor/tape.js';
import { IGNORED_TORCH_PARAMS, exchangeableLayers } from './layouts.js';
import { type TorchMapping, checkMapping, splitName, weightedLayers } from './names.js';
import { planLoad, problemsOf } from './plan.js';
import { type StateDictOptions, stateDict } from './save.js';

export type { TorchMapping, TorchNameMap } from './names.js';
export type { StateDictEntry, StateDictOptions } from './save.js';
export { stateDict, exchangeableLayers };

/** Options of `st.torch.loadStateDict`. */
export interface LoadStateDictOptions {
  /** How torch names become Strata layers and weights (default 'auto'; see the README's name mapping table). */
  mapping?: TorchMapping;
  /**
   * As PyTorch's `load_state_dict(strict)`: true (the default) requires every tensor to have a
   * destination and every weight of the model to be filled; false loads what matches (a
   * backbone without its classifier). Shapes must agree either way.
   */
  strict?: boolean;
}

/** What `loadStateDict` did. */
export interface LoadStateDictResult {
  /** The torch tensor names that were loaded, in the file's order. */
  loaded: string[];
  /** Tensors with no destination and weights left unfilled (empty unless `strict: false`). */
  unmatched: string[];
}

let fileReader: ((path: string) => Promise<Uint8Array>) | undefined;
let fileWriter: ((path: string, bytes: Uint8Array) => Promise<void>) | undefined;

/** Installs how `st.torch` reads and writes paths (the Node entry installs node:fs). */
export function setTorchFiles(reader: (path: string) => Promise<Uint8Array>, writer: (path: string, bytes: Uint8Array) => Promise<void>): void {
  fileReader = reader;
  fileWriter = writer;
}

async function bytesOf(source: string | Uint8Array | ArrayBuffer): Promise<[Uint8Array, string]> {
  if (source instanceof Uint8Array) return [source, 'state dict bytes'];
  if (source instanceof ArrayBuffer) return [new Uint8Array(source), 'state dict bytes'];
  if (typeof source !== 'string') throw new ValueError(`torch.loadStateDict: expected a path or bytes; received ${fmtValue(source)}`);
  if (!fileReader)
    throw new ValueError(`torch.loadStateDict: cannot read the path '${source}' here; pass the file's bytes (a Uint8Array or ArrayBuffer)`);
  return [await fileReader(source), source];
}

/**
 * Loads the weights of `bytes` (a PyTorch state dict as safetensors) into `model`, naming `file`
 * in errors. Nothing changes unless everything loads.
 */
export function loadStateDictBytes(model: Model, bytes: Uint8Array, file: string, options: LoadStateDictOptions = {}): LoadStateDictResult {
  const op = 'torch.loadStateDict';
  if (!(model instanceof Model)) throw new ValueError(`${op}: expected a Strata model; received ${fmtValue(model)}`);
  const mapping = checkMapping(op, options.mapping);
  const strict = options.strict ?? true;
  if (typeof strict !== 'boolean') throw new ValueError(`${op}: strict must be a boolean; received ${fmtValue(strict)}`);
  if (weightedLayers(model).length === 0)
    throw new ValueError(`${op}: model '${model.name}' has no weights yet; build it first (give an inputShape or call it once)`);
  const ignored = (name: string) => IGNORED_TORCH_PARAMS.has(splitName(name).param);
  const { tensors, order } = decodeSafetensors(bytes, file, null, { skip: ignored, widenHalf: true });
  const plan = planLoad(model, order, new Map(order.map((n) => [n, tensors.get(n)!.shape])), mapping);
  const problems = problemsOf(plan, strict);
  if (problems.length) {
    const Err = plan.onlyShapes && problems.length === plan.errors.length ? ShapeError : ValueError;
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    throw new Err(`${file}: cannot load the PyTorch state dict into model '${model.name}' (${count}):\n  ${problems.join('\n  ')}`);
  }
  noGrad(() => {
    for (const { torchNames, weight, param } of plan.assignments) {
      const value = param.toStrata(
        torchNames.map((n) => tensors.get(n)!),
        weight.value.shape,
      );
      weight.value.assign(cast(value, weight.value.dtype));
    }
  });
  for (const t of tensors.values()) t.dispose();
  const loaded = new Set(plan.assignments.flatMap((a) => a.torchNames));
  return { loaded: order.filter((n) => loaded.has(n)), unmatched: plan.unmatched };
}

/**
 * Loads a PyTorch state dict saved as safetensors (a path in Node, or the file's bytes) into a
 * Strata model: names are mapped by `options.mapping` (torchvision's ResNet names for
 * st.applications' resNet18/resNet34, else the order of the file's modules) and layouts are
 * converted by layer class (Conv2d [out, in, kh, kw] to [kh, kw, in, out], Linear [out, in] to
 * [in, out], a depthwise Conv2d [C·m, 1, kh, kw] to [kh, kw, C, m], BatchNorm's running
 * statistics to moving_mean/moving_variance, LSTM/GRU gates reordered and biases combined).
 * F32, F64, F16 and BF16 tensors load as float32.
 * Nothing changes unless everything loads.
 * @throws ValueError listing every tensor with no destination and every weight left unfilled;
 *   ShapeError when only shapes disagree (each with its expected and received shape);
 *   FormatError for a damaged file, naming it.
 * @example
 * ```ts
 * const model = st.applications.resNet18({ classifierActivation: null });
 * await st.torch.loadStateDict(model, 'resnet18.safetensors');
 * ```
 */
export async function loadStateDict(
  model: Model,
  source: string | Uint8Array | ArrayBuffer,
  options: LoadStateDictOptions = {},
): Promise<LoadStateDictResult> {
  const [bytes, file] = await bytesOf(source);
  return loadStateDictBytes(model, bytes, file, options);
}

/** The model's weights as a PyTorch state dict in the safetensors format (pages: download them). */
export function toBytes(model: Model, options: StateDictOptions = {}): Uint8Array {
  return encodeSafetensors(stateDict(model, options), { format: 'pt' });
}

/**
 * Writes the model's weights as a PyTorch state dict (safetensors, replaced atomically) that
 * `module.load_state_dict(...)` takes: PyTorch's names and layouts, the inverse of loadStateDict.
 * @example
 * ```ts
 * const model = st.sequential({ layers: [st.layers.dense({ units: 4, inputShape: [3] })] });
 * await st.torch.saveStateDict(model, 'linear.safetensors', { moduleNames: ['0'] });
 * ```
 */
export async function saveStateDict(model: Model, path: string, options: StateDictOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path === '')
    throw new ValueError(`torch.saveStateDict: path must be a non-empty string; received ${fmtValue(path)}`);
  if (!fileWriter) throw new ValueError(`torch.saveStateDict: cannot write files here; use st.torch.toBytes(model) instead`);
  await fileWriter(path, toBytes(model, options));
}

/** What `st.torch` holds. */
export interface TorchApi {
  /** Loads a PyTorch state dict (safetensors: a path in Node, or bytes) into a model. */
  loadStateDict: typeof loadStateDict;
  /** The model's weights under PyTorch's names and layouts, as `{name, tensor}` pairs. */
  stateDict: typeof stateDict;
  /** Writes the model's weights as a PyTorch state dict (safetensors) for `load_state_dict`. */
  saveStateDict: typeof saveStateDict;
  /** The safetensors bytes `saveStateDict` writes. */
  toBytes: typeof toBytes;
  /** The Strata layer classes whose weights have a PyTorch layout. */
  exchangeableLayers: typeof exchangeableLayers;
}

/** `st.torch`: PyTorch state dicts (safetensors) into and out of Strata models. */
export const torch: TorchApi = { loadStateDict, stateDict, saveStateDict, toBytes, exchangeableLayers };
