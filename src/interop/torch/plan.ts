// Where each tensor of a PyTorch state dict goes in a Strata model, and everything wrong with
// that, collected before any weight changes: a load either fills the model or leaves it as it was,
// and its error lists every problem at once (a tensor with no destination, a weight left
// unfilled, a shape that disagrees) rather than the first.
import { fmtShape } from '../../core/errors.js';
import type { Model } from '../../models/model.js';
import type { Layer, LayerWeight } from '../../nn/layer.js';
import { IGNORED_TORCH_PARAMS, type TorchParam, torchParamsOf, weightOf } from './layouts.js';
import { type TorchMapping, looksLikeTorchvisionResNet, splitName, torchvisionToStrata, weightedLayers } from './names.js';

/** One weight's source: the torch tensors (usually one) its param is made of. */
export interface Assignment {
  torchNames: string[];
  weight: LayerWeight;
  param: TorchParam;
}

export interface LoadPlan {
  assignments: Assignment[];
  /** Problems that stop the load whatever `strict` says (shapes, two tensors for one weight). */
  errors: string[];
  /** Tensors with no destination and weights left unfilled: problems only when strict. */
  unmatched: string[];
  /** Whether every error is a shape disagreement (the load then throws a ShapeError). */
  onlyShapes: boolean;
}

const q = (name: string) => `'${name}'`;

/** The destination a mapping names for a tensor: a layer name, or a weight path with a slash. */
function targetOf(mapping: TorchMapping, torchName: string, byOrder: Map<string, Layer>): string | undefined {
  const { module } = splitName(torchName);
  if (mapping === 'order' || mapping === 'auto') return byOrder.get(module)?.name;
  if (mapping === 'torchvision') return torchvisionToStrata(module);
  if (typeof mapping === 'function') return mapping(torchName) ?? undefined;
  if (Object.hasOwn(mapping, torchName)) return mapping[torchName];
  return Object.hasOwn(mapping, module) ? mapping[module] : undefined;
}

/** Modules in the order the file saved them, paired with the model's weighted layers. */
function pairByOrder(modules: string[], layers: Layer[], unmatched: string[]): Map<string, Layer> {
  const out = new Map<string, Layer>();
  modules.forEach((module, i) => {
    if (i < layers.length) out.set(module, layers[i]);
    else unmatched.push(`module ${q(module)} is number ${i + 1} in the file's order, but the model has only ${layers.length} layers with weights`);
  });
  return out;
}

/**
 * Plans loading `names` (in the file's order, with their shapes) into `model`. Ignored buffers
 * (batch norms' num_batches_tracked) are left out before this is called.
 */
export function planLoad(model: Model, names: readonly string[], shapes: ReadonlyMap<string, readonly number[]>, mapping: TorchMapping): LoadPlan {
  const layers = weightedLayers(model);
  const byName = new Map(layers.map((l) => [l.name, l]));
  const resolved: TorchMapping = mapping === 'auto' && looksLikeTorchvisionResNet(model, names) ? 'torchvision' : mapping;
  const unmatched: string[] = [];
  const errors: string[] = [];
  let shapeErrors = 0;
  const byOrder =
    resolved === 'order' || resolved === 'auto'
      ? pairByOrder([...new Set(names.map((n) => splitName(n).module))], layers, unmatched)
      : new Map<string, Layer>();

  // The parts each weight has received so far (one per name of its param's `torch`).
  const parts = new Map<LayerWeight, { param: TorchParam; names: (string | undefined)[]; bad: boolean }>();
  for (const torchName of names) {
    const shape = shapes.get(torchName)!;
    const where = `tensor ${q(torchName)} ${fmtShape(shape)}`;
    const target = targetOf(resolved, torchName, byOrder);
    if (target === undefined) {
      if (resolved !== 'order' && resolved !== 'auto') unmatched.push(`${where} has no destination (the mapping names no Strata layer for it)`);
      continue;
    }
    const slash = target.lastIndexOf('/');
    const layerName = slash < 0 ? target : target.slice(0, slash);
    const layer = byName.get(layerName);
    if (layer === undefined) {
      unmatched.push(`${where} maps to ${q(target)}, but the model has no layer ${q(layerName)} with weights`);
      continue;
    }
    const params = torchParamsOf(layer);
    if (params === undefined) {
      errors.push(`${where} maps to layer ${q(layer.name)}, a ${layer.className}, whose PyTorch layout Strata does not know`);
      continue;
    }
    const suffix = splitName(torchName).param;
    const param = slash < 0 ? params.find((p) => p.torch.includes(suffix)) : params.find((p) => p.strata === target.slice(slash + 1));
    if (param === undefined) {
      const accepted = slash < 0 ? params.flatMap((p) => p.torch) : params.map((p) => p.strata);
      unmatched.push(
        `${where} maps to layer ${q(layer.name)} (${layer.className}), which has no such parameter; expected one of ${accepted.join(', ')}`,
      );
      continue;
    }
    const part = param.torch.length === 1 ? 0 : param.torch.indexOf(suffix);
    const weight = weightOf(layer, param)!;
    if (part < 0) {
      unmatched.push(`${where} maps to Strata weight ${q(weight.path)}, which PyTorch stores as ${param.torch.join(' + ')}; name one of those`);
      continue;
    }
    const entry = parts.get(weight) ?? { param, names: param.torch.map(() => undefined), bad: false };
    parts.set(weight, entry);
    const previous = entry.names[part];
    if (previous !== undefined) {
      errors.push(`${where} and tensor ${q(previous)} both map to Strata weight ${q(weight.path)}`);
      continue;
    }
    entry.names[part] = torchName;
    const expected = param.torchShapes(weight.value.shape)[part];
    if (fmtShape(expected) !== fmtShape(shape)) {
      errors.push(
        `${where} maps to Strata weight ${q(weight.path)} ${fmtShape(weight.value.shape)}, which PyTorch stores as ${fmtShape(expected)}; expected ${fmtShape(expected)}, received ${fmtShape(shape)}`,
      );
      shapeErrors++;
      entry.bad = true;
    }
  }
  const assignments: Assignment[] = [];
  for (const layer of layers) {
    for (const weight of layer.weights) {
      const entry = parts.get(weight);
      if (entry === undefined) unmatched.push(`Strata weight ${q(weight.path)} ${fmtShape(weight.value.shape)} receives no tensor`);
      else if (entry.names.includes(undefined)) {
        const missing = entry.param.torch.filter((_, i) => entry.names[i] === undefined);
        unmatched.push(`Strata weight ${q(weight.path)} ${fmtShape(weight.value.shape)} lacks its PyTorch part ${missing.map(q).join(', ')}`);
      } else if (!entry.bad) assignments.push({ torchNames: entry.names as string[], weight, param: entry.param });
    }
  }
  return { assignments, errors, unmatched, onlyShapes: shapeErrors === errors.length };
}

/** The plan's problems for an error message, unmatched ones only when strict. */
export function problemsOf(plan: LoadPlan, strict: boolean): string[] {
  return strict ? [...plan.errors, ...plan.unmatched] : plan.errors;
}

export { IGNORED_TORCH_PARAMS };
